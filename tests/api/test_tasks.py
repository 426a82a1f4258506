"""The task list ML backends and SDKs page through, and single-task CRUD."""

import asyncio
import json
import time

import orjson
import pytest

from app.db import engine as db_engine
from app.db.engine import make_sessionmaker
from app.domain.roles import Role
from tests.api.test_import_jobs import poll
from tests.api.test_projects import create
from tests.factories import make_actor, make_organization

pytestmark = pytest.mark.core

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]
LABELED = {
    "filters": {
        "conjunction": "and",
        "items": [
            {"filter": "filter:tasks:completed_at", "operator": "empty", "value": False, "type": "Datetime"}
        ],
    },
    "selectedItems": {"all": True, "excluded": []},
}


async def project_with_tasks(team, n=5):
    pid = (await create(team)).json()["id"]
    body = [{"review_text": f"t{i}"} for i in range(n)]
    ids = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=1", json=body, headers=team.headers()
        )
    ).json()["task_ids"]
    return pid, ids


async def test_pages_until_404_and_shape(team):
    pid, ids = await project_with_tasks(team, 5)
    seen = []
    page = 1
    while True:
        response = await team.client.get(
            f"/api/tasks?project={pid}&page={page}&page_size=2&fields=all", headers=team.headers()
        )
        if response.status_code == 404:
            break
        body = response.json()
        assert set(body) == {"tasks", "total", "total_annotations", "total_predictions"}
        assert body["total"] == 5
        assert all("annotations" in t and "predictions" in t for t in body["tasks"])
        seen += [t["id"] for t in body["tasks"]]
        page += 1
    assert seen == ids


async def test_labeled_and_unlabeled_filters(team):
    pid, ids = await project_with_tasks(team, 3)
    await team.client.post(
        f"/api/tasks/{ids[1]}/annotations/", json={"result": CHOICE}, headers=team.headers()
    )
    labeled = (
        await team.client.get(
            "/api/tasks", params={"project": pid, "query": json.dumps(LABELED)}, headers=team.headers()
        )
    ).json()
    assert [t["id"] for t in labeled["tasks"]] == [ids[1]]
    assert labeled["total_annotations"] == 1
    unlabeled_query = json.loads(json.dumps(LABELED))
    unlabeled_query["filters"]["items"][0]["value"] = True
    unlabeled = (
        await team.client.get(
            "/api/tasks",
            params={"project": pid, "query": json.dumps(unlabeled_query)},
            headers=team.headers(),
        )
    ).json()
    assert [t["id"] for t in unlabeled["tasks"]] == [ids[0], ids[2]]


async def test_id_filters_ordering_and_selected_items(team):
    pid, ids = await project_with_tasks(team, 4)
    query = {
        "filters": {
            "conjunction": "and",
            "items": [
                {"filter": "filter:tasks:id", "operator": "greater", "value": ids[0], "type": "Number"}
            ],
        },
        "ordering": ["-tasks:id"],
    }
    body = (
        await team.client.get(
            "/api/tasks", params={"project": pid, "query": json.dumps(query)}, headers=team.headers()
        )
    ).json()
    assert [t["id"] for t in body["tasks"]] == [ids[3], ids[2], ids[1]]
    selected = {"selectedItems": {"all": False, "included": [ids[0], ids[2]]}}
    body = (
        await team.client.get(
            "/api/tasks",
            params={"project": pid, "query": json.dumps(selected), "include": "id"},
            headers=team.headers(),
        )
    ).json()
    assert body["tasks"] == [{"id": ids[0]}, {"id": ids[2]}]
    data_filter = {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:data.review_text",
                    "operator": "contains",
                    "value": "t3",
                    "type": "String",
                }
            ],
        }
    }
    body = (
        await team.client.get(
            "/api/tasks", params={"project": pid, "query": json.dumps(data_filter)}, headers=team.headers()
        )
    ).json()
    assert [t["id"] for t in body["tasks"]] == [ids[3]]


def one_filter(column, operator, value):
    item = {"filter": f"filter:tasks:{column}", "operator": operator, "value": value, "type": "String"}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


async def test_regex_filter_matches_data_fields_and_refuses_what_cannot_run(team, engine):
    """The SDK's `regex` operator on a data field; a pattern no database can run, a pattern only
    PostgreSQL refuses, or a text operator on a number column is a 400 naming the filter."""
    pid, ids = await project_with_tasks(team, 12)

    async def listed(query):
        return await team.client.get(
            "/api/tasks", params={"project": pid, "query": query}, headers=team.headers()
        )

    body = (await listed(one_filter("data.review_text", "regex", r"^t1\d$"))).json()
    assert [t["id"] for t in body["tasks"]] == ids[10:12]
    assert body["total"] == 2
    assert (await listed(one_filter("data.review_text", "regex", ""))).json()["total"] == 12
    for column, operator, value, says in [
        ("data.review_text", "regex", "t(1", "not a regular expression"),
        ("data.review_text", "regex", 7, "must be a regular expression"),
        ("id", "regex", "1", "data fields only"),
        ("total_annotations", "contains", "1", "data fields only"),
    ]:
        response = await listed(one_filter(column, operator, value))
        assert response.status_code == 400, (column, operator, value)
        assert says in response.json()["detail"]
        assert "items[0]" in response.json()["detail"]
    nul = await listed(one_filter("data.review_text", "contains", "t\x001"))  # PostgreSQL stores no NUL
    assert nul.status_code == (400 if engine.dialect.name == "postgresql" else 200)
    python_only = await listed(one_filter("data.review_text", "regex", "(?P<n>t)1"))  # a named group
    if engine.dialect.name == "postgresql":
        assert python_only.status_code == 400
        assert "regular expression" in python_only.json()["detail"]
    else:  # SQLite runs the pattern with Python's re
        assert python_only.json()["total"] == 3


async def test_a_regex_filter_that_backtracks_for_ever_is_a_400_and_the_server_answers_meanwhile(
    team, engine, monkeypatch
):
    """`^(a|a)+$` on a long run of a's that does not match backtracks exponentially: Python's re
    would hold the GIL, and on SQLite the write lock, for as long; PostgreSQL's engine does not."""
    monkeypatch.setattr(db_engine, "REGEX_SECONDS", 1.0)
    pid = (await create(team)).json()["id"]
    body = [{"review_text": "a" * 32 + "!"}, {"review_text": "aa"}]
    await team.client.post(f"/api/projects/{pid}/import", json=body, headers=team.headers())
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    query = one_filter("data.review_text", "regex", "^(a|a)+$")
    response = await team.client.get(
        "/api/tasks", params={"project": pid, "query": query}, headers=team.headers()
    )
    elapsed = time.monotonic() - started
    ticker.cancel()
    if engine.dialect.name == "postgresql":
        assert response.json()["total"] == 1
        return
    assert response.status_code == 400
    assert "did not finish" in response.json()["detail"]
    assert elapsed < 3
    assert ticks > elapsed / 0.02 / 3  # the event loop ran on while the pattern did
    fine = one_filter("data.review_text", "regex", "^a+$")  # the next statement has its own time
    assert (
        await team.client.get("/api/tasks", params={"project": pid, "query": fine}, headers=team.headers())
    ).json()["total"] == 1


async def test_bad_query_is_400(team):
    pid, _ = await project_with_tasks(team, 1)
    response = await team.client.get(
        "/api/tasks", params={"project": pid, "query": "{not json"}, headers=team.headers()
    )
    assert response.status_code == 400
    assert response.json()["field"] == "query"
    unknown = {"filters": {"items": [{"filter": "filter:tasks:nope", "operator": "equal", "value": 1}]}}
    response = await team.client.get(
        "/api/tasks", params={"project": pid, "query": json.dumps(unknown)}, headers=team.headers()
    )
    assert response.status_code == 400
    assert "nope" in response.json()["detail"]


async def test_update_meta_and_data_then_delete(team):
    pid, ids = await project_with_tasks(team, 2)
    response = await team.client.patch(
        f"/api/tasks/{ids[0]}", json={"meta": {"needs_review": True}}, headers=team.headers()
    )
    assert response.status_code == 200
    assert response.json()["meta"] == {"needs_review": True}
    bad = await team.client.patch(f"/api/tasks/{ids[0]}", json={"data": {"other": 1}}, headers=team.headers())
    assert bad.status_code == 400
    assert "review_text" in bad.json()["detail"]
    assert (await team.client.delete(f"/api/tasks/{ids[0]}", headers=team.headers())).status_code == 204
    assert (await team.client.get(f"/api/tasks/{ids[0]}/", headers=team.headers())).status_code == 404
    project = (await team.client.get(f"/api/projects/{pid}", headers=team.headers())).json()
    assert project["task_number"] == 1


async def test_create_one_task_and_delete_all(team):
    pid, _ = await project_with_tasks(team, 2)
    response = await team.client.post(
        "/api/tasks/", json={"data": {"review_text": "new"}, "project": pid}, headers=team.headers()
    )
    assert response.status_code == 201
    assert response.json()["inner_id"] == 3
    assert (
        await team.client.delete(f"/api/projects/{pid}/tasks/", headers=team.headers())
    ).status_code == 204
    body = (await team.client.get(f"/api/tasks?project={pid}", headers=team.headers())).json()
    assert body["total"] == 0


async def test_another_organizations_ids_are_404(team, engine):
    pid, ids = await project_with_tasks(team, 1)
    async with make_sessionmaker(engine)() as session:
        org = await make_organization(session)
        _, token = await make_actor(session, Role.OWNER, email="stranger@example.com", organization_id=org)
        await session.commit()
    stranger = {"Authorization": f"Token {token}"}
    for method, path in (
        ("GET", f"/api/projects/{pid}"),
        ("PATCH", f"/api/projects/{pid}"),
        ("DELETE", f"/api/projects/{pid}"),
        ("GET", f"/api/tasks/{ids[0]}"),
        ("PATCH", f"/api/tasks/{ids[0]}"),
        ("DELETE", f"/api/tasks/{ids[0]}"),
        ("GET", f"/api/tasks?project={pid}"),
        ("POST", f"/api/projects/{pid}/import"),
    ):
        response = await team.client.request(
            method, path, json={"meta": {}} if method != "GET" else None, headers=stranger
        )
        assert response.status_code == 404, (method, path)
    assert (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).status_code == 200


async def list_total(team, pid, query=None) -> int:
    params = {"project": pid, "page_size": 1}
    if query:
        params["query"] = json.dumps(query)
    return (await team.client.get("/api/tasks", params=params, headers=team.headers())).json()["total"]


EVERY_ID = {"filters": {"items": [{"filter": "filter:tasks:id", "operator": "greater", "value": 0}]}}


async def test_unfiltered_total_follows_imports_and_deletes(team):
    """The unfiltered total is the project's counter; a filtered count of rows must agree with it."""
    pid, ids = await project_with_tasks(team, 5)
    big = orjson.dumps([{"review_text": f"row {i} " + "z" * 80} for i in range(1000)])
    response = await team.client.post(
        f"/api/projects/{pid}/import",
        content=big,
        headers={**team.headers(), "Content-Type": "application/json"},
    )
    assert (await poll(team, pid, response.json()["import"]))["status"] == "completed"
    assert await list_total(team, pid) == await list_total(team, pid, EVERY_ID) == 1005
    both = await asyncio.gather(
        *(team.client.delete(f"/api/tasks/{ids[0]}", headers=team.headers()) for _ in "ab")
    )
    assert sorted(r.status_code for r in both) == [204, 404]
    action = await team.client.post(
        f"/api/dm/actions?id=delete_tasks&project={pid}",
        json={"selectedItems": {"all": False, "included": ids[1:3]}},
        headers=team.headers(),
    )
    assert action.json()["processed_items"] == 2
    await team.client.post(
        f"/api/projects/{pid}/import", json=[{"review_text": "late"}], headers=team.headers()
    )
    assert await list_total(team, pid) == await list_total(team, pid, EVERY_ID) == 1003
    project = (await team.client.get(f"/api/projects/{pid}", headers=team.headers())).json()
    assert project["task_number"] == 1003
    past_end = await team.client.get(
        f"/api/tasks?project={pid}&page=12&page_size=100", headers=team.headers()
    )
    assert past_end.status_code == 404


async def test_ties_follow_the_direction_of_the_last_key(team):
    pid, ids = await project_with_tasks(team, 4)
    for task_id in (ids[1], ids[2]):
        await team.client.post(
            f"/api/tasks/{task_id}/annotations/", json={"result": CHOICE}, headers=team.headers()
        )
    query = {"ordering": ["-tasks:completed_at"]}
    body = (
        await team.client.get(
            "/api/tasks", params={"project": pid, "query": json.dumps(query)}, headers=team.headers()
        )
    ).json()
    order = [t["id"] for t in body["tasks"]]
    unlabeled, labeled = order[:2], order[2:]  # NULL completed_at first when descending, as PostgreSQL sorts
    assert set(labeled) == {ids[1], ids[2]}
    assert unlabeled == [ids[3], ids[0]]


async def list_sums(team, pid, query=None) -> tuple[int, int]:
    params = {"project": pid, "page_size": 1}
    if query:
        params["query"] = json.dumps(query)
    body = (await team.client.get("/api/tasks", params=params, headers=team.headers())).json()
    return body["total_annotations"], body["total_predictions"]


async def test_unfiltered_sums_follow_every_change_and_agree_with_a_scan(team):
    """The unfiltered sums come from counters kept by the database; a filtered scan must agree."""
    pid = (await create(team)).json()["id"]
    annotated = {
        "data": {"review_text": "with work"},
        "annotations": [{"result": CHOICE}, {"result": CHOICE, "was_cancelled": True}],
        "predictions": [{"result": CHOICE, "score": 0.5}],
    }
    body = [annotated, *({"review_text": f"t{i}"} for i in range(40))]
    ids = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=1", json=body, headers=team.headers()
        )
    ).json()["task_ids"]
    assert await list_sums(team, pid) == await list_sums(team, pid, EVERY_ID) == (1, 1)
    for task_id in ids[1:4]:
        await team.client.post(
            f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=team.headers()
        )
    prediction = await team.client.post(
        "/api/predictions", json={"task": ids[5], "result": CHOICE, "score": 0.1}, headers=team.headers()
    )
    assert await list_sums(team, pid) == await list_sums(team, pid, EVERY_ID) == (4, 2)
    await team.client.delete(f"/api/predictions/{prediction.json()['id']}", headers=team.headers())
    await team.client.delete(f"/api/tasks/{ids[0]}", headers=team.headers())
    assert await list_sums(team, pid) == await list_sums(team, pid, EVERY_ID) == (3, 0)
