"""Importing tasks from a URL: a real HTTP server on loopback, and the outbound guard in front of it.

The default settings refuse loopback, so the server is reachable only from an app whose settings
allow it (`outbound_allow_private`, or an allow-list); the refusal tests use the default app and
check that the server never saw a request.
"""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.domain.roles import Role
from app.main import create_app
from app.workers.queue import InProcessQueue
from tests.api.test_import_jobs import poll
from tests.api.test_imports import count_tasks, project_id
from tests.api.test_projects import create
from tests.conftest import free_port

pytestmark = pytest.mark.core

TASKS = [{"review_text": "from a url"}, {"data": {"review_text": "second"}}]
Route = Callable[[BaseHTTPRequestHandler], None]


def send(status: int, body: bytes = b"", content_type: str = "application/json", **headers: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return route


def redirect(location: str) -> Route:
    return send(302, Location=location)


def unsized(body: bytes) -> Route:
    """A body without Content-Length, ended by closing the connection."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        for start in range(0, len(body), 1000):
            handler.wfile.write(body[start : start + 1000])

    return route


def slow(first_byte_after: float, drip: float = 0.0) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(first_byte_after)
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(drip)

    return route


def late(after: float, body: bytes) -> Route:
    """A whole JSON body, sent only after `after` seconds."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(after)
        send(200, body)(handler)

    return route


class FileServer:
    """http.server on a free loopback port serving `routes`; `hits` lists every path asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                server.routes.get(self.path, send(404, b"secret internal page", "text/plain"))(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def files() -> Iterator[FileServer]:
    server = FileServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@asynccontextmanager
async def app_client(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on the test database whose settings differ by `overrides`."""
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quorum.test") as http:
            yield http
        if isinstance(app.state.queue, InProcessQueue):
            await app.state.queue.drain()


@pytest.fixture
async def open_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app allowed to reach private addresses, as a developer would run it."""
    async with app_client(settings, outbound_allow_private=True) as http:
        yield http


async def import_url(
    http: httpx.AsyncClient, team, pid: int, url: str, role: Role = Role.OWNER
) -> httpx.Response:
    """The URL as Label Studio's "Add URL" sends it: a urlencoded form field."""
    return await http.post(
        f"/api/projects/{pid}/import?return_task_ids=true", data={"url": url}, headers=team.headers(role)
    )


def leftovers(settings: Settings) -> list[str]:
    folder = settings.data_dir / "imports"
    return [p.name for p in folder.glob("*.part")] if folder.exists() else []


async def test_json_file_from_a_url_is_imported(team, files, open_client):
    files.routes["/tasks.json"] = send(200, orjson.dumps(TASKS), "text/plain")
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/tasks.json"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["task_count"] == 2
    task = (await team.client.get(f"/api/tasks/{body['task_ids'][1]}", headers=team.headers())).json()
    assert task["data"] == {"review_text": "second"}
    assert files.hits == ["/tasks.json"]


async def test_query_parameter_multipart_field_and_formats(team, files, open_client):
    files.routes["/a.csv"] = send(200, b'review_text,stars\ngreat,5\n"with, comma",3\n', "text/csv")
    files.routes["/b.tsv"] = send(200, b"review_text\tstars\nfine\t4\n", "text/plain")
    files.routes["/c.jsonl"] = send(200, b'{"review_text": "l1"}\n{"review_text": "l2"}\n', "text/plain")
    files.routes["/export?format=csv"] = send(200, b"review_text\nby type\n", "text/csv; charset=utf-8")
    files.routes["/api/tasks"] = send(200, orjson.dumps(TASKS), "application/json")
    pid = await project_id(team)
    headers = team.headers()
    counts = []
    for path in ("/a.csv", "/export?format=csv"):
        response = await open_client.post(
            f"/api/projects/{pid}/import?url={files.url(path)}", headers=headers
        )
        assert response.status_code == 201, response.text
        counts.append(response.json()["task_count"])
    for path in ("/b.tsv", "/c.jsonl", "/api/tasks"):
        response = await open_client.post(
            f"/api/projects/{pid}/import", files={"url": (None, files.url(path))}, headers=headers
        )
        assert response.status_code == 201, response.text
        counts.append(response.json()["task_count"])
    assert counts == [2, 1, 1, 2, 2]
    page = (await team.client.get(f"/api/tasks?project={pid}&page_size=100", headers=headers)).json()
    texts = [t["data"]["review_text"] for t in page["tasks"]]
    assert texts == ["great", "with, comma", "by type", "fine", "l1", "l2", "from a url", "second"]


async def test_a_slow_download_holds_no_transaction(team, files, open_client, engine: AsyncEngine):
    """While a URL import waits on a slow server, other writes go through at once (on SQLite the write
    lock is free) and no connection sits idle in a transaction."""
    files.routes["/late.json"] = late(3.0, orjson.dumps(TASKS))
    pid = await project_id(team)
    pending = asyncio.create_task(import_url(open_client, team, pid, files.url("/late.json")))
    while files.hits != ["/late.json"]:
        await asyncio.sleep(0.05)
    started = time.monotonic()
    assert (await create(team)).status_code == 201
    assert time.monotonic() - started < 1.5
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            idle = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'idle in transaction'"
                )
            )
        assert idle == 0
    response = await pending
    assert response.status_code == 201, response.text
    assert response.json()["task_count"] == 2


async def test_unknown_format_is_400_and_leaves_no_file(team, files, open_client, settings):
    files.routes["/blob"] = send(200, b"\x00\x01", "application/octet-stream")
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/blob"))
    assert response.status_code == 400
    assert ".csv" in response.json()["detail"]
    assert leftovers(settings) == []


async def test_bad_rows_name_the_row_and_nothing_is_imported(team, files, open_client):
    files.routes["/bad.json"] = send(200, orjson.dumps([{"review_text": "ok"}, {"other": 1}]))
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/bad.json"))
    assert response.status_code == 400
    assert "task 2" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0


async def test_a_large_file_becomes_an_import_job(team, files, open_client):
    tasks = [{"review_text": f"review {i} " + "x" * 80} for i in range(2000)]
    files.routes["/big.json"] = send(200, orjson.dumps(tasks))
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/big.json"))
    assert response.status_code == 201
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "completed", job
    assert len(job["task_ids"]) == 2000
    assert job["found_formats"] == ["big.json"]
    assert await count_tasks(team, pid) == 2000


REFUSED = [
    "http://127.0.0.1:{port}/tasks.json",
    "http://localhost:{port}/tasks.json",
    "http://[::1]:{port}/tasks.json",
    "http://[::ffff:127.0.0.1]:{port}/tasks.json",
    "http://[::ffff:7f00:1]:{port}/tasks.json",
    "http://0.0.0.0:{port}/tasks.json",
    "http://2130706433:{port}/tasks.json",
    "http://0x7f000001:{port}/tasks.json",
    "http://127.1:{port}/tasks.json",
    "http://10.0.0.1/tasks.json",
    "http://172.16.0.1/tasks.json",
    "http://192.168.1.1/tasks.json",
    "http://100.64.0.1/tasks.json",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fd00::1]/tasks.json",
]


async def test_default_settings_refuse_non_public_addresses(team, files):
    files.routes["/tasks.json"] = send(200, orjson.dumps(TASKS))
    pid = await project_id(team)
    for template in REFUSED:
        response = await import_url(team.client, team, pid, template.format(port=files.port))
        assert response.status_code == 403, (template, response.text)
        assert "not a public address" in response.json()["detail"]
        assert response.json()["field"] == "url"
    assert files.hits == []
    assert await count_tasks(team, pid) == 0


async def test_only_http_and_https(team):
    pid = await project_id(team)
    for url in (
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_x",
        "ftp://example.com/t.json",
        "example.com/t.json",
    ):
        response = await import_url(team.client, team, pid, url)
        assert response.status_code == 400, url
        assert "only http and https" in response.json()["detail"]


async def test_a_redirect_to_a_refused_address_is_refused(team, files, settings):
    """The server itself is allow-listed; each hop it redirects to is checked on its own."""
    targets = [
        "http://169.254.169.254/latest/meta-data/iam/",
        f"http://[::1]:{files.port}/t.json",
        "http://10.0.0.1/",
    ]
    for i, target in enumerate(targets):
        files.routes[f"/go{i}"] = redirect(target)
    pid = await project_id(team)
    async with app_client(settings, outbound_allowlist=["127.0.0.1/32"]) as http:
        for i, target in enumerate(targets):
            response = await import_url(http, team, pid, files.url(f"/go{i}"))
            assert response.status_code == 403, (target, response.text)
            assert "not a public address" in response.json()["detail"]
    assert files.hits == [f"/go{i}" for i in range(len(targets))]
    assert await count_tasks(team, pid) == 0


async def test_redirects_are_followed_a_few_times_and_rechecked(team, files, open_client):
    files.routes["/tasks.json"] = send(200, orjson.dumps(TASKS))
    files.routes["/old"] = redirect("/moved")
    files.routes["/moved"] = redirect(files.url("/tasks.json"))
    files.routes["/loop"] = redirect("/loop")
    files.routes["/to-file"] = redirect("file:///etc/passwd")
    pid = await project_id(team)
    assert (await import_url(open_client, team, pid, files.url("/old"))).json()["task_count"] == 2
    loop = await import_url(open_client, team, pid, files.url("/loop"))
    assert loop.status_code == 400
    assert "redirected more than 5 times" in loop.json()["detail"]
    assert files.hits.count("/loop") == 6
    to_file = await import_url(open_client, team, pid, files.url("/to-file"))
    assert to_file.status_code == 400
    assert "only http and https" in to_file.json()["detail"]


async def test_oversize_bodies_are_413_with_or_without_content_length(team, files, settings):
    body = orjson.dumps([{"review_text": "y" * 100} for _ in range(50)])
    files.routes["/sized.json"] = send(200, body)
    files.routes["/unsized.json"] = unsized(body)
    files.routes["/small.json"] = unsized(orjson.dumps(TASKS))
    pid = await project_id(team)
    async with app_client(settings, outbound_allow_private=True, outbound_max_bytes=1000) as http:
        for path in ("/sized.json", "/unsized.json"):
            response = await import_url(http, team, pid, files.url(path))
            assert response.status_code == 413, response.text
            assert "larger than the limit of 1000 bytes" in response.json()["detail"]
        assert (await import_url(http, team, pid, files.url("/small.json"))).status_code == 201
    assert await count_tasks(team, pid) == 2
    assert leftovers(settings) == []


async def test_error_status_is_400_without_echoing_the_body(team, files, open_client):
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/missing.json"))
    assert response.status_code == 400
    assert "answered HTTP 404" in response.json()["detail"]
    assert "secret" not in response.text


async def test_slow_servers_time_out(team, files, settings):
    files.routes["/silent.json"] = slow(first_byte_after=1.5)
    files.routes["/drip.json"] = slow(first_byte_after=0, drip=0.05)
    pid = await project_id(team)
    started = time.monotonic()
    async with app_client(
        settings, outbound_allow_private=True, outbound_timeout=0.3, outbound_total_timeout=1.0
    ) as http:
        for path in ("/silent.json", "/drip.json"):
            response = await import_url(http, team, pid, files.url(path))
            assert response.status_code == 400, response.text
            assert "did not answer within the time limit" in response.json()["detail"]
    assert time.monotonic() - started < 2.5


async def test_unreachable_host_is_400(team, open_client):
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, f"http://127.0.0.1:{free_port()}/tasks.json")
    assert response.status_code == 400
    assert "connection failed" in response.json()["detail"]


async def test_only_managers_make_the_server_fetch(team, files, open_client):
    files.routes["/tasks.json"] = send(200, orjson.dumps(TASKS))
    pid = await project_id(team)
    response = await import_url(open_client, team, pid, files.url("/tasks.json"), role=Role.ANNOTATOR)
    assert response.status_code in (403, 404)
    assert files.hits == []


async def test_a_json_body_with_a_url_key_is_a_task_as_in_label_studio(team, files, open_client):
    config = '<View><Image name="image" value="$url"/><Choices name="c" toName="image"><Choice value="A"/></Choices></View>'
    pid = (await create(team, label_config=config)).json()["id"]
    image = files.url("/cat.jpg")
    response = await open_client.post(
        f"/api/projects/{pid}/import?return_task_ids=1", json={"url": image}, headers=team.headers()
    )
    assert response.status_code == 201
    task = (
        await team.client.get(f"/api/tasks/{response.json()['task_ids'][0]}", headers=team.headers())
    ).json()
    assert task["data"] == {"url": image}
    assert files.hits == []
