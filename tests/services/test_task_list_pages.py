"""Every page of the task list holds exactly the tasks `ORDER BY ... OFFSET ... LIMIT` gives,
however the list reads it (by id first, from the nearer end, from the project's id buckets)."""

import itertools

import orjson
import pytest
from sqlalchemy import case, func, select

from app.db.engine import make_sessionmaker
from app.db.models import Annotation, Task
from app.db.models.tasks import TASK_BUCKET, TaskBucket
from app.domain.pagination import Page
from app.domain.task_import import TaskItem
from app.domain.task_query import TaskQuery, parse_task_query
from app.services import annotations, imports, projects, tasks
from app.services.tasks import _ordered, filtered_tasks
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]
ORDERINGS = [
    [],
    ["tasks:id"],
    ["-tasks:id"],
    ["tasks:completed_at"],
    ["-tasks:completed_at"],
    ["-tasks:total_annotations"],
    ["tasks:data.group"],
    ["-tasks:data.group", "tasks:inner_id"],
]
CONTAINS_7 = {
    "conjunction": "and",
    "items": [{"filter": "filter:tasks:data.review_text", "operator": "contains", "value": "7"}],
}
SDK_LABELED, SDK_UNLABELED = (
    {
        "conjunction": "and",
        "items": [
            {"filter": "filter:tasks:completed_at", "operator": "empty", "value": empty, "type": "Datetime"}
        ],
    }
    for empty in (False, True)
)
SIZE = 7


def item(i: int) -> TaskItem:
    """Ties and empty values in every ordering: a few groups, some missing; every third annotated."""
    data = {"review_text": f"review {i}"} | ({"group": f"g{i % 4}"} if i % 5 else {})
    annotations = 0 if i % 3 else 1 + i % 2
    return TaskItem(data, annotations=[{"result": CHOICE}] * annotations)


async def offset_page(session, project_id, query, page, only_annotated=False):
    """The oracle: the page's ids as `OFFSET ... LIMIT` over the whole ordered list gives them."""
    stmt = _ordered(filtered_tasks(project_id, query, only_annotated=only_annotated), query)
    return list(await session.scalars(stmt.with_only_columns(Task.id).offset(page.offset).limit(page.size)))


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize(
    ("filters", "only_annotated"),
    [(None, False), (CONTAINS_7, False), (SDK_LABELED, False), (SDK_UNLABELED, False), (None, True)],
)
async def test_every_page_is_the_offset_page(session, ordering, filters, only_annotated):
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    other = await make_project(session, actor)
    for batch in range(4):  # interleave another project's ids
        await imports.import_tasks(session, actor, project.id, [item(batch * 60 + i) for i in range(60)])
        await imports.import_tasks(session, actor, other.id, [item(i) for i in range(5)])
    listed, *_ = await tasks.list_tasks(
        session, actor, project.id, parse_task_query(None), Page(1, 240), only_annotated=False
    )
    for task in listed[3::17]:  # gaps in the ids
        await tasks.delete_task(session, actor, task.id)
    await session.commit()
    query = parse_task_query(orjson.dumps({"filters": filters, "ordering": ordering}).decode())
    number = 1
    while True:
        page = Page(number, SIZE)
        expected = await offset_page(session, project.id, query, page, only_annotated)
        if not expected:
            break
        rows, total, annotations, predictions = await tasks.list_tasks(
            session, actor, project.id, query, page, only_annotated=only_annotated
        )
        assert [t.id for t in rows] == expected, f"page {number}"
        number += 1
    assert (number - 2) * SIZE < total <= (number - 1) * SIZE
    assert total % SIZE, "the last page is partial"
    listed = filtered_tasks(project.id, query, only_annotated=only_annotated).subquery()
    sums = select(func.count(), func.sum(listed.c.total_annotations), func.sum(listed.c.total_predictions))
    assert (total, annotations, predictions) == tuple((await session.execute(sums)).one())


async def test_id_ordered_pages_across_buckets_are_the_offset_pages(session):
    """Pages found from the id buckets, over several buckets with another project's ids between
    them, tasks deleted inside buckets, and one bucket emptied of this project's tasks; of the whole
    project and of its labeled and unlabeled tasks."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    other = await make_project(session, actor)
    ids: list[int] = []
    for batch in range(6):
        result = await imports.import_tasks(session, actor, project.id, [item(i) for i in range(1500)])
        ids += result.task_ids
        await imports.import_tasks(session, actor, other.id, [item(i) for i in range(700 + batch)])
    emptied = [i for i in ids if i // TASK_BUCKET == 1]
    holes = ids[5::13] + ids[TASK_BUCKET - 40 : TASK_BUCKET + 40] + emptied
    await tasks.delete_tasks(
        session, actor, project.id, TaskQuery(selected_all=False, selected_ids=tuple(holes))
    )
    await session.commit()
    assert len({i // TASK_BUCKET for i in ids}) >= 4, "the project spans several buckets"
    for ordering, filters in itertools.product(
        ([], ["tasks:id"], ["-tasks:id"], ["-tasks:id", "tasks:data.group"]),
        (None, SDK_LABELED, SDK_UNLABELED),
    ):
        query = parse_task_query(orjson.dumps({"filters": filters, "ordering": ordering}).decode())
        for size in (97, TASK_BUCKET + 3):
            number = 1
            while expected := await offset_page(session, project.id, query, page := Page(number, size)):
                rows, *_ = await tasks.list_tasks(
                    session, actor, project.id, query, page, only_annotated=False
                )
                assert [t.id for t in rows] == expected, f"{ordering} {filters} page {number} of {size}"
                number += 1


async def test_buckets_count_each_projects_tasks_by_id(session):
    """The triggers keep task_buckets equal to the tasks (and the labeled tasks' counters) grouped by
    id // TASK_BUCKET, through imports, submits and deletes; deleting a project removes its buckets."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    other = await make_project(session, actor)
    for _ in range(3):
        await imports.import_tasks(session, actor, project.id, [item(i) for i in range(2000)])
        await imports.import_tasks(session, actor, other.id, [item(i) for i in range(900)])
    listed, *_ = await tasks.list_tasks(
        session, actor, project.id, parse_task_query(None), Page(1, 6000), only_annotated=False
    )
    await tasks.delete_task(session, actor, listed[7].id)
    await tasks.delete_tasks(
        session,
        actor,
        project.id,
        TaskQuery(selected_all=False, selected_ids=tuple(t.id for t in listed[100::3])),
    )
    await annotations.create_annotation(session, actor, listed[-1].id, {"result": CHOICE})  # labels it
    only = await session.scalar(select(Annotation.id).where(Annotation.task_id == listed[0].id))
    await annotations.delete_annotation(session, actor, only)  # unlabels it
    bucket = (Task.id // TASK_BUCKET).label("bucket")
    labeled = {  # what a bucket counts of each task
        "tasks": 1,
        "labeled": case((Task.is_labeled, 1), else_=0),
        "labeled_annotations": case((Task.is_labeled, Task.total_annotations), else_=0),
        "labeled_predictions": case((Task.is_labeled, Task.total_predictions), else_=0),
    }
    grouped = select(Task.project_id, bucket, *map(func.sum, labeled.values())).group_by(
        Task.project_id, bucket
    )
    kept = (
        select(
            TaskBucket.project_id,
            TaskBucket.bucket,
            *(func.sum(getattr(TaskBucket, column)) for column in labeled),
        )
        .group_by(TaskBucket.project_id, TaskBucket.bucket)
        .having(func.sum(TaskBucket.tasks) > 0)
    )
    assert {tuple(r) for r in await session.execute(kept)} == {
        tuple(r) for r in await session.execute(grouped)
    }
    await projects.delete_project(session, actor, other.id)
    assert set(await session.scalars(select(TaskBucket.project_id))) == {project.id}


@pytest.mark.parametrize("ordering", [[], ["-tasks:id"], ["tasks:inner_id"]])
async def test_a_page_counts_the_rows_its_statement_sees(session, engine, ordering):
    """A total read before another import and delete committed does not shift a page read from the
    end or from the id buckets."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite a reading transaction keeps other writers out")
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    result = await imports.import_tasks(session, actor, project.id, [item(i) for i in range(100)])
    await session.commit()
    query = parse_task_query(orjson.dumps({"ordering": ordering}).decode())
    await tasks.list_tasks(session, actor, project.id, query, Page(1, SIZE), only_annotated=False)
    async with make_sessionmaker(engine)() as other:  # commits while this session holds the project
        await imports.import_tasks(other, actor, project.id, [item(i) for i in range(100, 110)])
        holes = TaskQuery(selected_all=False, selected_ids=tuple(result.task_ids[20:23]))
        await tasks.delete_tasks(other, actor, project.id, holes)
        await other.commit()
    page = Page(12, SIZE)
    rows, *_ = await tasks.list_tasks(session, actor, project.id, query, page, only_annotated=False)
    assert [t.id for t in rows] == await offset_page(session, project.id, query, page)
