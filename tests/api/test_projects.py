"""Projects over the API: create, read, list, update, delete, roles and tenants."""

import pytest

from app.domain.roles import Role
from tests.factories import SENTIMENT

pytestmark = pytest.mark.core


async def create(team, role=Role.OWNER, **fields):
    body = {"title": "Reviews", "label_config": SENTIMENT, **fields}
    return await team.client.post("/api/projects", json=body, headers=team.headers(role))


async def test_create_returns_201_with_id_settings_and_parsed_config(team):
    response = await create(
        team, maximum_annotations=2, sampling="Uniform sampling", skip_queue="REQUEUE_FOR_ME"
    )
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["title"] == "Reviews"
    assert body["maximum_annotations"] == 2
    assert body["sampling"] == "Uniform sampling"
    assert body["skip_queue"] == "REQUEUE_FOR_ME"
    assert body["parsed_label_config"]["sentiment"]["labels"] == ["Positive", "Negative", "Neutral"]
    assert body["task_number"] == 0


async def test_defaults_follow_the_spec(team):
    body = (await create(team)).json()
    assert body["maximum_annotations"] == 1
    assert body["overlap_cohort_percentage"] == 100
    assert body["sampling"] == "Sequential sampling"
    assert body["skip_queue"] == "REQUEUE_FOR_OTHERS"
    assert body["show_skip_button"] is True
    assert body["enable_empty_annotation"] is True
    assert body["custom_task_lock_ttl"] == 1440 * 60


async def test_settings_round_trip_through_patch(team):
    project = (await create(team)).json()
    patch = {
        "maximum_annotations": 3,
        "overlap_cohort_percentage": 50,
        "show_overlap_first": True,
        "require_comment_on_skip": True,
        "annotation_limit_count": 10,
        "review_settings": {"require_comment_on_reject": True},
    }
    response = await team.client.patch(f"/api/projects/{project['id']}", json=patch, headers=team.headers())
    assert response.status_code == 200
    again = (await team.client.get(f"/api/projects/{project['id']}/", headers=team.headers())).json()
    for key, value in patch.items():
        if key == "review_settings":
            assert again["review_settings"]["require_comment_on_reject"] is True
        else:
            assert again[key] == value, key


async def test_invalid_combination_is_400_naming_the_field(team):
    response = await create(team, maximum_annotations=1, overlap_cohort_percentage=50)
    assert response.status_code == 400
    assert "overlap_cohort_percentage" in response.json()["detail"] + str(response.json().get("field"))


async def test_percentage_out_of_range_is_400(team):
    response = await create(team, annotation_limit_percent="150")
    assert response.status_code == 400
    assert "annotation_limit_percent" in response.json()["detail"] + str(response.json().get("field"))


async def test_malformed_config_is_400(team):
    response = await create(team, label_config="<View><Text name='t' value='$t'></View>")
    assert response.status_code == 400
    assert response.json()["field"] == "label_config"


async def test_list_pages_and_404_past_the_end(team):
    for i in range(3):
        await create(team, title=f"P{i}")
    first = (await team.client.get("/api/projects/?page=1&page_size=2", headers=team.headers())).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2")
    second = (await team.client.get("/api/projects/?page=2&page_size=2", headers=team.headers())).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    past = await team.client.get("/api/projects/?page=3&page_size=2", headers=team.headers())
    assert past.status_code == 404
    assert past.json() == {"detail": "Invalid page."}


async def test_empty_list_first_page_is_200(team):
    body = (await team.client.get("/api/projects?page=1", headers=team.headers())).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


async def test_update_and_delete_status_codes(team):
    pid = (await create(team)).json()["id"]
    assert (
        await team.client.patch(f"/api/projects/{pid}", json={"title": "New"}, headers=team.headers())
    ).status_code == 200
    assert (await team.client.delete(f"/api/projects/{pid}/", headers=team.headers())).status_code == 204
    assert (await team.client.get(f"/api/projects/{pid}", headers=team.headers())).status_code == 404


async def test_annotators_and_reviewers_cannot_create_or_change_projects(team):
    assert (await create(team, Role.ANNOTATOR)).status_code == 403
    assert (await create(team, Role.REVIEWER)).status_code == 403
    assert (await create(team, Role.MANAGER)).status_code == 201


async def test_annotator_sees_only_projects_they_are_member_of(team):
    pid = (await create(team)).json()["id"]
    assert (
        await team.client.get(f"/api/projects/{pid}", headers=team.headers(Role.ANNOTATOR))
    ).status_code == 404
    listing = (await team.client.get("/api/projects", headers=team.headers(Role.ANNOTATOR))).json()
    assert listing["count"] == 0


async def test_validate_reports_essential_change(team):
    pid = (await create(team)).json()["id"]
    same = await team.client.post(
        f"/api/projects/{pid}/validate/", json={"label_config": SENTIMENT}, headers=team.headers()
    )
    assert same.json() == {"config_essential_data_has_changed": False}
    other = SENTIMENT.replace("$review_text", "$text")
    changed = await team.client.post(
        f"/api/projects/{pid}/validate/", json={"label_config": other}, headers=team.headers()
    )
    assert changed.json() == {"config_essential_data_has_changed": True}


async def test_config_change_orphaning_annotations_is_refused_with_the_list(team):
    pid = (await create(team)).json()["id"]
    imported = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=true",
        json=[{"review_text": "good"}],
        headers=team.headers(),
    )
    task_id = imported.json()["task_ids"][0]
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]
    await team.client.post(
        f"/api/tasks/{task_id}/annotations/", json={"result": result}, headers=team.headers()
    )
    without_positive = SENTIMENT.replace('<Choice value="Positive"/>', "")
    response = await team.client.patch(
        f"/api/projects/{pid}", json={"label_config": without_positive}, headers=team.headers()
    )
    assert response.status_code == 409
    assert "Positive" in response.json()["detail"]
    unchanged = (await team.client.get(f"/api/projects/{pid}", headers=team.headers())).json()
    assert unchanged["label_config"] == SENTIMENT


async def test_model_versions_is_a_dict_of_counts(team):
    pid = (await create(team)).json()["id"]
    await team.client.post(
        f"/api/projects/{pid}/import",
        json=[{"data": {"review_text": "x"}, "predictions": [{"model_version": "v1", "result": []}]}],
        headers=team.headers(),
    )
    body = (await team.client.get(f"/api/projects/{pid}/model-versions", headers=team.headers())).json()
    assert body == {"v1": 1}


async def test_members_see_the_project_and_project_roles_apply_to_annotators_only(team):
    pid = (await create(team)).json()["id"]
    annotator = team.ids[Role.ANNOTATOR]
    added = await team.client.post(
        f"/api/projects/{pid}/members", json={"user": annotator}, headers=team.headers()
    )
    assert added.status_code == 201
    assert (
        await team.client.get(f"/api/projects/{pid}", headers=team.headers(Role.ANNOTATOR))
    ).status_code == 200
    members = (await team.client.get(f"/api/projects/{pid}/members", headers=team.headers())).json()
    assert [m["user"]["id"] for m in members] == [annotator]
    as_reviewer = await team.client.post(
        f"/api/projects/{pid}/members", json={"user": annotator, "role": "reviewer"}, headers=team.headers()
    )
    assert as_reviewer.json()["role"] == "reviewer"
    downgrade = await team.client.post(
        f"/api/projects/{pid}/members",
        json={"user": team.ids[Role.MANAGER], "role": "annotator"},
        headers=team.headers(),
    )
    assert downgrade.status_code == 400
    refused = await team.client.post(
        f"/api/projects/{pid}/members", json={"user": annotator}, headers=team.headers(Role.ANNOTATOR)
    )
    assert refused.status_code == 403
    removed = await team.client.delete(f"/api/projects/{pid}/members/{annotator}", headers=team.headers())
    assert removed.status_code == 204
    assert (
        await team.client.get(f"/api/projects/{pid}", headers=team.headers(Role.ANNOTATOR))
    ).status_code == 404


@pytest.mark.parametrize("weight", ["inf", "Infinity", "1e309", "NaN"])
async def test_a_weight_json_cannot_hold_is_400_and_the_project_stays_readable(team, weight):
    """JSON has no infinity: stored, it came back as null and failed every read of the project."""
    project = (await create(team)).json()
    for body in (
        {"control_weights": {"sentiment": {"overall": weight}}},
        {"control_weights": {"sentiment": {"overall": 1, "labels": {"Positive": weight}}}},
    ):
        response = await team.client.patch(
            f"/api/projects/{project['id']}", json=body, headers=team.headers()
        )
        assert response.status_code == 400, response.text
        assert "control_weights" in response.json()["detail"]
    assert (await create(team, control_weights={"sentiment": {"overall": weight}})).status_code == 400
    assert (
        await team.client.get(f"/api/projects/{project['id']}", headers=team.headers())
    ).status_code == 200
    assert (await team.client.get("/api/projects", headers=team.headers())).status_code == 200


@pytest.mark.parametrize("workspace", [999, 0, True, False, "1"])
async def test_a_workspace_that_is_not_one_of_the_organizations_is_400(team, workspace):
    response = await create(team, workspace=workspace)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "workspace"


@pytest.mark.parametrize(
    "body", [{"username": 5}, {"username": ["a"]}, {"password": 5}, {"password": {"a": 1}}]
)
async def test_a_user_named_or_passworded_with_a_non_string_is_400(team, body):
    response = await team.client.post(
        "/api/users", json={"email": "new@example.com", **body}, headers=team.headers()
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == next(iter(body))
