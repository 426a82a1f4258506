"""A project's JSON export, imported into a new project, gives back the same tasks, annotations and
predictions: who annotated, skips, ground truth, lead times, scores and model versions."""

import pytest

from app.domain.roles import Role
from tests.api.test_projects import create
from tests.api.test_tasks import CHOICE, project_with_tasks

pytestmark = pytest.mark.core

NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
ANNOTATION_KEYS = ("result", "completed_by", "was_cancelled", "ground_truth", "lead_time")
PREDICTION_KEYS = ("result", "score", "model_version")


async def source_project(team) -> int:
    """Three tasks: two annotators and a ground truth on one, a skip on another, predictions on two."""
    pid, ids = await project_with_tasks(team, 3)
    annotator, reviewer = team.ids[Role.ANNOTATOR], team.ids[Role.REVIEWER]
    for task_id, body in (
        (ids[0], {"result": CHOICE, "lead_time": 12.5, "completed_by": annotator}),
        (ids[0], {"result": NEGATIVE, "lead_time": 3.0, "completed_by": reviewer}),
        (ids[0], {"result": CHOICE, "ground_truth": True}),
        (ids[1], {"result": [], "was_cancelled": True, "lead_time": 0.5, "completed_by": annotator}),
    ):
        response = await team.client.post(
            f"/api/tasks/{task_id}/annotations/", json=body, headers=team.headers()
        )
        assert response.status_code == 201, response.text
    predictions = [
        {"task": ids[0], "result": "Positive", "score": 0.91, "model_version": "bert-1"},
        {"task": ids[0], "result": "Negative", "score": 0.2, "model_version": "bert-2"},
        {"task": ids[2], "result": "Neutral", "score": None, "model_version": "rules"},
    ]
    response = await team.client.post(
        f"/api/projects/{pid}/import/predictions", json=predictions, headers=team.headers()
    )
    assert response.status_code == 201, response.text
    return pid


async def export(team, pid: int) -> list[dict]:
    response = await team.client.get(
        f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true", headers=team.headers()
    )
    assert response.status_code == 200
    return response.json()


def comparable(tasks: list[dict]) -> list[dict]:
    """What must survive the trip, in a stable order (ids and timestamps are the new project's own)."""

    def pick(items: list[dict], keys: tuple[str, ...]) -> list[dict]:
        return sorted(({k: i[k] for k in keys} for i in items), key=repr)

    return [
        {
            "data": t["data"],
            "meta": t["meta"],
            "annotations": pick(t["annotations"], ANNOTATION_KEYS),
            "predictions": pick(t["predictions"], PREDICTION_KEYS),
        }
        for t in tasks
    ]


async def test_json_export_imports_back_the_same(team):
    source = await source_project(team)
    exported = await export(team, source)
    assert len(exported) == 3
    target = (await create(team)).json()["id"]
    response = await team.client.post(
        f"/api/projects/{target}/import?return_task_ids=true", json=exported, headers=team.headers()
    )
    assert response.status_code == 201, response.text
    assert response.json()["annotation_count"] == 4
    assert response.json()["prediction_count"] == 3
    again = await export(team, target)
    assert comparable(again) == comparable(exported)
    source_tasks = (await team.client.get(f"/api/tasks?project={source}", headers=team.headers())).json()[
        "tasks"
    ]
    target_tasks = (await team.client.get(f"/api/tasks?project={target}", headers=team.headers())).json()[
        "tasks"
    ]
    counters = ("is_labeled", "total_annotations", "cancelled_annotations", "total_predictions")
    assert [{k: t[k] for k in counters} for t in target_tasks] == [
        {k: t[k] for k in counters} for t in source_tasks
    ]


async def test_annotators_of_another_organization_are_not_kept(team):
    """Imported annotations keep members of this organization; an unknown id becomes the importer."""
    target = (await create(team)).json()["id"]
    tasks = [
        {"data": {"review_text": "a"}, "annotations": [{"result": CHOICE, "completed_by": 999999}]},
        {
            "data": {"review_text": "b"},
            "annotations": [{"result": CHOICE, "completed_by": {"email": "nobody@x.org"}}],
        },
        {
            "data": {"review_text": "c"},
            "annotations": [{"result": CHOICE, "completed_by": {"email": "annotator@example.com"}}],
        },
    ]
    response = await team.client.post(f"/api/projects/{target}/import", json=tasks, headers=team.headers())
    assert response.status_code == 201, response.text
    who = [t["annotations"][0]["completed_by"] for t in await export(team, target)]
    assert who == [team.ids[Role.OWNER], team.ids[Role.OWNER], team.ids[Role.ANNOTATOR]]


async def test_inline_annotations_that_break_the_rules_are_400_naming_the_task(team):
    target = (await create(team)).json()["id"]
    cases = {
        "lead_time": {"result": CHOICE, "lead_time": "slow"},
        "ground truth": [
            {"result": CHOICE, "ground_truth": True},
            {"result": NEGATIVE, "ground_truth": True},
        ],
    }
    for needle, annotations in cases.items():
        item = {
            "data": {"review_text": "x"},
            "annotations": annotations if isinstance(annotations, list) else [annotations],
        }
        response = await team.client.post(
            f"/api/projects/{target}/import", json=[{"review_text": "ok"}, item], headers=team.headers()
        )
        assert response.status_code == 400, response.text
        assert "task 2" in response.json()["detail"]
        assert needle in response.json()["detail"]
    bad_score = {"data": {"review_text": "x"}, "predictions": [{"result": CHOICE, "score": "high"}]}
    response = await team.client.post(
        f"/api/projects/{target}/import", json=[bad_score], headers=team.headers()
    )
    assert response.status_code == 400
    assert "score" in response.json()["detail"]
