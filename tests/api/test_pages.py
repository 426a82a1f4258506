"""Signing in through the login page leads to the projects list."""

import re

import pytest

from tests.api.test_projects import create

pytestmark = pytest.mark.core


async def login(client, email, password):
    page = await client.get("/user/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return await client.post(
        "/user/login", data={"email": email, "password": password, "csrfmiddlewaretoken": token}
    )


async def test_login_leads_to_projects_list(team):
    await create(team, title="Visible <b>project</b>")
    page = await team.client.get("/projects")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/user/login")
    response = await login(team.client, "owner@example.com", "pw-owner")
    assert response.status_code == 303
    projects = await team.client.get("/projects")
    assert projects.status_code == 200
    assert "Visible &lt;b&gt;project&lt;/b&gt;" in projects.text
    assert "script-src 'self'" in projects.headers["content-security-policy"]


async def test_wrong_password_shows_an_error(team):
    response = await login(team.client, "owner@example.com", "wrong")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text


async def test_login_without_csrf_cookie_is_refused(team):
    response = await team.client.post(
        "/user/login", data={"email": "owner@example.com", "password": "x", "csrfmiddlewaretoken": "forged"}
    )
    assert response.status_code == 403


async def test_session_cookie_api_calls_need_the_csrf_header(team):
    await login(team.client, "manager@example.com", "pw-manager")
    page = await team.client.get("/projects")
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)
    body = {"title": "From the browser"}
    refused = await team.client.post("/api/projects", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    accepted = await team.client.post("/api/projects", json=body, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201
