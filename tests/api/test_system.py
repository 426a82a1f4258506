"""Version, health, auth and the cross-cutting rules every path follows."""

from urllib.parse import quote

import pytest

from app.domain.roles import Role

pytestmark = pytest.mark.core


async def test_version_answers_with_and_without_slash(client, team):
    for path in ("/api/version", "/api/version/"):
        response = await client.get(path, headers=team.headers())
        assert response.status_code == 200
        assert response.json()["edition"] == "Community"
        assert "label-studio-enterprise-backend" not in response.json()


async def test_health_is_up(client):
    response = await client.get("/health")
    assert response.json() == {"status": "UP"}


async def test_wrong_token_is_401_with_detail(client, team):
    response = await client.get("/api/projects", headers={"Authorization": "Token nope"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


async def test_no_credentials_is_401(client, team):
    response = await client.get("/api/current-user")
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]


async def test_bearer_and_x_api_key_work_like_token(client, team):
    token = team.tokens[Role.OWNER]
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-API-Key": token}):
        response = await client.get("/api/current-user", headers=headers)
        assert response.status_code == 200
        assert response.json()["email"] == "owner@example.com"


async def test_whoami_has_string_fields_and_active_organization(client, team):
    body = (await client.get("/api/current-user/whoami", headers=team.headers(Role.MANAGER))).json()
    assert body["username"] == "manager@example.com"
    assert isinstance(body["active_organization"], int)
    assert all(isinstance(body[k], str) for k in ("first_name", "last_name", "phone", "initials"))
    assert body["org_membership"][0]["role"] == "MA"


async def test_token_endpoint_returns_the_callers_token(client, team):
    body = (await client.get("/api/current-user/token", headers=team.headers(Role.ANNOTATOR))).json()
    assert body == {"token": team.tokens[Role.ANNOTATOR]}


async def test_users_is_a_plain_list_of_the_organization(client, team):
    body = (await client.get("/api/users/", headers=team.headers())).json()
    assert isinstance(body, list)
    assert {u["email"] for u in body} == {f"{r.value}@example.com" for r in Role}


async def test_oversized_body_is_413_with_the_limit(client, team):
    big = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"
    response = await client.post(
        "/api/projects/1/import", content=big, headers={**team.headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert str(5 * 1024 * 1024) in response.json()["detail"]


async def test_malformed_json_is_400_not_500(client, team):
    response = await client.post(
        "/api/projects", content=b"{nope", headers={**team.headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


async def test_openapi_docs_are_served(client):
    assert (await client.get("/docs")).status_code == 200
    assert "/api/projects" in (await client.get("/openapi.json")).json()["paths"]


async def test_an_id_past_the_databases_integer_range_is_a_400_naming_it(team):
    for path, name in (
        ("/api/projects/99999999999", "project_id"),
        ("/api/tasks/99999999999999999999", "task_id"),
        ("/api/projects/1/exports/99999999999", "export_id"),
    ):
        response = await team.client.get(path, headers=team.headers())
        assert (response.status_code, response.json()["field"]) == (400, name), path


async def test_a_number_past_the_databases_range_anywhere_in_the_request_is_a_400(team):
    """Query and body ids reach the driver, which overflows: a 400, never a 500, on either database;
    export ids are checked before the streamed answer begins."""
    pid = (await team.client.post("/api/projects", json={"title": "t"}, headers=team.headers())).json()["id"]
    big = 2**70
    requests = (
        ("GET", f"/api/tasks?project={big}", None),
        ("GET", f"/api/predictions?project={big}", None),
        ("POST", f"/api/projects/{pid}/members", {"user": big}),
        ("POST", f"/api/projects/{pid}/tasks/assignees", {"users": [big], "type": "AN"}),
        # a Data Manager selection, sent to the database as one list whatever its length
        (
            "GET",
            f"/api/tasks?project={pid}&query="
            + quote(f'{{"selectedItems": {{"all": true, "excluded": [{big}]}}}}'),
            None,
        ),
        (
            "POST",
            f"/api/projects/{pid}/tasks/assignees",
            {"users": [], "selectedItems": {"all": False, "included": [big]}, "type": "AN"},
        ),
    )
    for method, path, body in requests:
        response = await team.client.request(method, path, json=body, headers=team.headers())
        assert response.status_code == 400, (path, response.text)
    response = await team.client.get(f"/api/projects/{pid}/export?ids={big}", headers=team.headers())
    assert (response.status_code, response.json()["field"]) == (400, "ids")
