"""Project counters come from totals kept by triggers, and the labeled and unlabeled task lists from
the id buckets' counters; every kind of task write keeps them equal to a count over the tasks."""

import orjson
import pytest
from sqlalchemy import case, func, select

from app.db.models import Annotation, Task
from app.domain.pagination import Page
from app.domain.task_import import TaskItem
from app.domain.task_query import TaskQuery, parse_task_query
from app.services import annotations, imports, predictions, projects, tasks
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


async def counted_from_tasks(session, project_id):
    """The counters as a scan of the project's tasks gives them."""
    row = (
        await session.execute(
            select(
                func.count(Task.id),
                func.coalesce(func.sum(case((Task.is_labeled, 1), else_=0)), 0),
                func.coalesce(func.sum(Task.total_annotations), 0),
                func.coalesce(func.sum(Task.cancelled_annotations), 0),
                func.coalesce(func.sum(Task.total_predictions), 0),
                func.coalesce(func.sum(case((Task.total_annotations > 0, 1), else_=0)), 0),
            ).where(Task.project_id == project_id)
        )
    ).one()
    truth = await session.scalar(
        select(func.count(Annotation.id)).where(Annotation.project_id == project_id, Annotation.ground_truth)
    )
    keys = (
        "task_number",
        "finished_task_number",
        "total_annotations_number",
        "skipped_annotations_number",
        "total_predictions_number",
        "num_tasks_with_annotations",
    )
    counted = {key: int(value) for key, value in zip(keys, row, strict=True)}
    return counted | {
        "useful_annotation_number": counted["total_annotations_number"],
        "ground_truth_number": truth,
    }


def one_filter(column, operator, value):
    item = {"filter": f"filter:tasks:{column}", "operator": operator, "value": value}
    return parse_task_query(orjson.dumps({"filters": {"conjunction": "and", "items": [item]}}).decode())


async def labeled_lists(session, actor, project_id):
    """The labeled and unlabeled lists the SDK asks for (read from the counters), beside the same
    lists filtered by `is_labeled` (counted by reading the tasks): ids, total and sums."""

    async def listed(query):
        rows, *counts = await tasks.list_tasks(
            session, actor, project_id, query, Page(1, 100), only_annotated=False
        )
        return [t.id for t in rows], *counts

    return [
        (
            await listed(one_filter("completed_at", "empty", not labeled)),
            await listed(one_filter("is_labeled", "equal", labeled)),
        )
        for labeled in (True, False)
    ]


async def test_counters_follow_imports_submits_skips_settings_and_deletes(session):
    actor, _ = await make_actor(session)
    project = await make_project(session, actor, maximum_annotations=2)
    other = await make_project(session, actor)
    items = [TaskItem({"review_text": f"r{i}"}) for i in range(12)]
    items[0] = TaskItem(
        {"review_text": "r0"},
        annotations=[{"result": CHOICE}],
        predictions=[{"result": CHOICE, "score": 0.5}],
    )
    imported = await imports.import_tasks(session, actor, project.id, items)
    await imports.import_tasks(session, actor, other.id, [TaskItem({"review_text": "x"})])
    ids = imported.task_ids

    async def check(expected_finished):
        counters = (await projects.project_counters(session, [project.id]))[project.id]
        assert counters == await counted_from_tasks(session, project.id)
        assert counters["finished_task_number"] == expected_finished
        assert counters["task_number"] == len(ids)
        for sdk, scanned in await labeled_lists(session, actor, project.id):
            assert sdk == scanned

    await check(0)
    await annotations.create_annotation(session, actor, ids[1], {"result": CHOICE})
    await annotations.create_annotation(session, actor, ids[2], {"result": [], "was_cancelled": True})
    await annotations.create_annotation(session, actor, ids[3], {"result": CHOICE, "ground_truth": True})
    await check(0)
    # one annotation per task now finishes tasks 0 and 1 (the ground truth never counts)
    await projects.update_project(session, actor, project.id, {"maximum_annotations": 1})
    await check(2)
    await predictions.import_predictions(session, actor, project.id, [{"task": ids[1], "result": CHOICE}])
    await annotations.create_annotation(session, actor, ids[0], {"result": CHOICE})
    await check(2)
    await tasks.delete_task(session, actor, ids[1])
    ids.remove(ids[1])
    await check(1)
    await tasks.delete_tasks(
        session, actor, project.id, TaskQuery(selected_all=False, selected_ids=(ids[0],))
    )
    ids.remove(ids[0])
    await check(0)
    assert (await projects.project_counters(session, [other.id]))[other.id]["task_number"] == 1
