"""Annotations and predictions over the API."""

import pytest

from app.db.engine import make_sessionmaker
from app.db.models import Annotation
from app.domain.roles import Role
from tests.api.test_tasks import CHOICE, project_with_tasks

pytestmark = pytest.mark.core


async def test_submit_list_update_delete(team):
    _, ids = await project_with_tasks(team, 1)
    created = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/", json={"result": CHOICE, "lead_time": 3.5}, headers=team.headers()
    )
    assert created.status_code == 201
    annotation = created.json()
    assert annotation["completed_by"] == team.ids[Role.OWNER]
    assert annotation["lead_time"] == 3.5
    listed = (await team.client.get(f"/api/tasks/{ids[0]}/annotations", headers=team.headers())).json()
    assert [a["id"] for a in listed] == [annotation["id"]]
    negative = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
    updated = await team.client.patch(
        f"/api/annotations/{annotation['id']}", json={"result": negative}, headers=team.headers()
    )
    assert updated.status_code == 200
    assert updated.json()["result"] == negative
    assert (
        await team.client.delete(f"/api/annotations/{annotation['id']}/", headers=team.headers())
    ).status_code == 204
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["total_annotations"] == 0
    assert task["is_labeled"] is False


async def test_skips_are_not_listed_and_count_as_cancelled(team):
    _, ids = await project_with_tasks(team, 1)
    response = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations?was_cancelled=1", json={"result": []}, headers=team.headers()
    )
    assert response.status_code == 201
    assert response.json()["was_cancelled"] is True
    assert (await team.client.get(f"/api/tasks/{ids[0]}/annotations", headers=team.headers())).json() == []
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["cancelled_annotations"] == 1
    assert task["total_annotations"] == 0


async def test_unskippable_task_refuses_a_skip(team):
    pid = (
        await team.client.post(
            "/api/projects",
            json={
                "title": "P",
                "label_config": "<View><Text name='text' value='$text'/>"
                "<Choices name='c' toName='text'><Choice value='A'/></Choices></View>",
            },
            headers=team.headers(),
        )
    ).json()["id"]
    ids = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=1",
            json=[{"data": {"text": "x"}, "allow_skip": False}],
            headers=team.headers(),
        )
    ).json()["task_ids"]
    response = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/",
        json={"result": [], "was_cancelled": True},
        headers=team.headers(),
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "This task cannot be skipped."


async def test_result_not_matching_config_is_400_naming_region(team):
    _, ids = await project_with_tasks(team, 1)
    bad = [CHOICE[0], {**CHOICE[0], "from_name": "nope"}]
    response = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/", json={"result": bad}, headers=team.headers()
    )
    assert response.status_code == 400
    assert "result[1]" in response.json()["detail"]
    assert "nope" in response.json()["detail"]
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["annotations"] == []


async def test_one_ground_truth_per_task(team):
    _, ids = await project_with_tasks(team, 1)
    first = (
        await team.client.post(
            f"/api/tasks/{ids[0]}/annotations/",
            json={"result": CHOICE, "ground_truth": True},
            headers=team.headers(),
        )
    ).json()
    second = (
        await team.client.post(
            f"/api/tasks/{ids[0]}/annotations/",
            json={"result": CHOICE, "ground_truth": True},
            headers=team.headers(),
        )
    ).json()
    assert second["ground_truth"] is True
    assert (await team.client.get(f"/api/annotations/{first['id']}", headers=team.headers())).json()[
        "ground_truth"
    ] is False


async def test_client_key_makes_a_retried_submit_return_the_first(team):
    _, ids = await project_with_tasks(team, 1)
    body = {"result": CHOICE, "client_key": "abc"}
    first = (
        await team.client.post(f"/api/tasks/{ids[0]}/annotations/", json=body, headers=team.headers())
    ).json()
    again = (
        await team.client.post(f"/api/tasks/{ids[0]}/annotations/", json=body, headers=team.headers())
    ).json()
    assert again["id"] == first["id"]
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["total_annotations"] == 1


async def test_prediction_forms_and_crud(team):
    _, ids = await project_with_tasks(team, 1)
    from_string = await team.client.post(
        "/api/predictions", json={"task": ids[0], "result": "Negative", "score": 0.2}, headers=team.headers()
    )
    assert from_string.status_code == 201
    item = from_string.json()["result"][0]
    assert (item["from_name"], item["to_name"], item["type"]) == ("sentiment", "text", "choices")
    assert from_string.json()["model_version"] == "undefined"
    pid = from_string.json()["id"]
    patched = await team.client.patch(f"/api/predictions/{pid}/", json={"score": 0.7}, headers=team.headers())
    assert patched.json()["score"] == 0.7
    bad = await team.client.post(
        "/api/predictions/", json={"task": ids[0], "result": "Maybe"}, headers=team.headers()
    )
    assert bad.status_code == 400
    assert (await team.client.delete(f"/api/predictions/{pid}", headers=team.headers())).status_code == 204


async def test_a_manager_records_an_annotation_for_a_member_of_the_organization_only(team):
    pid, ids = await project_with_tasks(team, 2)
    annotator = team.ids[Role.ANNOTATOR]
    await team.client.post(f"/api/projects/{pid}/members", json={"user": annotator}, headers=team.headers())
    for_member = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations",
        json={"result": CHOICE, "completed_by": annotator},
        headers=team.headers(),
    )
    assert (for_member.status_code, for_member.json()["completed_by"]) == (201, annotator)
    stranger = await team.client.post(
        f"/api/tasks/{ids[1]}/annotations",
        json={"result": CHOICE, "completed_by": 987654},
        headers=team.headers(),
    )
    assert stranger.status_code == 400
    assert "987654" in stranger.json()["detail"]
    by_annotator = await team.client.post(
        f"/api/tasks/{ids[1]}/annotations",
        json={"result": CHOICE, "completed_by": team.ids[Role.OWNER]},
        headers=team.headers(Role.ANNOTATOR),
    )
    assert by_annotator.json()["completed_by"] == annotator


async def test_a_submit_leaves_the_columns_it_does_not_set_as_the_models_defaults(team, engine):
    _, ids = await project_with_tasks(team, 2)
    created = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/", json={"result": CHOICE}, headers=team.headers()
    )
    assert created.status_code == 201
    async with make_sessionmaker(engine)() as session:
        submitted = await session.get_one(Annotation, created.json()["id"])
        through_orm = Annotation(task_id=ids[1], project_id=submitted.project_id)
        session.add(through_orm)
        await session.flush()  # the ORM writes the model's defaults
        unset = [c.key for c in Annotation.__table__.c if c.key not in SET_BY_SUBMIT]
        assert {k: getattr(submitted, k) for k in unset} == {k: getattr(through_orm, k) for k in unset}
        await session.rollback()


SET_BY_SUBMIT = {"id", "task_id", "completed_by_id", "result", "last_action", "created_at", "updated_at"}
