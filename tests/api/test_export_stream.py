"""A one-shot export of 200,000 tasks over real HTTP streams: the first bytes come long before the
last, and the server's memory does not grow with the export."""

import gc
import resource
import threading
import time

import httpx
import orjson
import pytest

from app.db.engine import make_sessionmaker
from app.domain.task_import import TaskItem
from app.services import imports
from tests.api.test_tasks import CHOICE
from tests.factories import left_open, make_actor, make_project

TASKS = 200_000


def rss_mb() -> float:
    """This process's resident memory: the live server runs in a thread of it."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class PeakMemory:
    def __init__(self) -> None:
        self.base = self.peak = rss_mb()
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> "PeakMemory":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


async def project_of(engine, tasks: int) -> tuple[str, int, list[int]]:
    """A project of `tasks` tasks of some 200 bytes each, written 50,000 at a time: its owner's
    token, its id, the task ids."""
    task_ids = []
    async with make_sessionmaker(engine)() as session:
        actor, token = await make_actor(session)
        project = await make_project(session, actor)
        for start in range(0, tasks, 50_000):
            items = [
                TaskItem({"review_text": f"review {i} " + "x" * 200})
                for i in range(start, min(tasks, start + 50_000))
            ]
            task_ids += (await imports.write_tasks(session, project.id, actor.user_id, items)).task_ids
        await session.commit()
    return token, project.id, task_ids


async def test_an_export_of_200k_tasks_streams_with_flat_server_memory(live, engine):
    token, project_id, _ = await project_of(engine, TASKS)
    url = f"{live.url}/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=true"
    async with httpx.AsyncClient(headers={"Authorization": f"Token {token}"}, timeout=300) as http:
        with PeakMemory() as memory:
            started = time.perf_counter()
            first, size, head, tail = None, 0, b"", b""
            async with http.stream("GET", url) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_raw():  # read and dropped, as a client saving to disk
                    size += len(chunk)
                    if first is None and size > 10_000:  # tasks, not just the opening bracket
                        first = time.perf_counter() - started
                    head += chunk if len(head) < 20_000 else b""
                    tail = (tail + chunk)[-20_000:]
            total = time.perf_counter() - started
    assert orjson.loads(head[: head.index(b"},{") + 1] + b"]")[0]["inner_id"] == 1
    last = orjson.loads(b"[" + tail[tail.rindex(b"},{") + 2 :])[0]
    assert (last["inner_id"], last["data"]["review_text"][:14]) == (TASKS, f"review {TASKS - 1} ")
    assert size > 50 * 2**20
    assert first is not None
    # built in memory first, the first bytes would come at the end: they come in the first quarter
    # (a twentieth here when idle: 0.05 s of 1.1-1.3 s, the first two batches built at once)
    assert first < total / 4, (first, total)
    assert memory.peak - memory.base < 40, memory.peak - memory.base


async def test_a_client_leaving_mid_export_leaves_no_transaction_open(live, engine):
    """Closed when the response ends, not when the garbage collector gets to it (off here)."""
    token, project_id, _ = await project_of(engine, 5_000)
    gc.disable()
    try:
        for export_type in ("JSON", "CSV"):
            await leave_early(f"{live.url}/api/projects/{project_id}/export?exportType={export_type}", token)
            assert await left_open(engine) == 0, export_type
    finally:
        gc.enable()


async def leave_early(url: str, token: str) -> None:
    """Read the first tasks of an export of every task, then hang up."""
    http = httpx.AsyncClient(headers={"Authorization": f"Token {token}"})
    async with http, http.stream("GET", f"{url}&download_all_tasks=true") as response:
        async for chunk in response.aiter_raw():
            if len(chunk) > 1000:
                break


@pytest.mark.core
async def test_writes_go_on_while_a_client_reads_an_export_slowly(live, engine):
    """On SQLite too, where a transaction held for the whole download would block every write."""
    token, project_id, task_ids = await project_of(engine, 40_000)  # more than socket buffers hold
    headers = {"Authorization": f"Token {token}"}
    url = f"{live.url}/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=true"
    async with httpx.AsyncClient(headers=headers, timeout=10) as http, http.stream("GET", url) as export:
        reading = export.aiter_raw()
        await anext(reading)  # the export has begun; the client pauses
        answer = {"result": CHOICE}
        submitted = await http.post(f"{live.url}/api/tasks/{task_ids[-1]}/annotations", json=answer)
        assert submitted.status_code == 201
        async for _ in reading:
            pass


async def test_every_batch_of_an_export_reads_the_snapshot_it_began_with(live, engine):
    """PostgreSQL builds batches on several connections at once: all read the export's one snapshot,
    so what is written once the download has begun is in none of them."""
    token, project_id, task_ids = await project_of(engine, 40_000)
    headers = {"Authorization": f"Token {token}"}
    url = f"{live.url}/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=true"
    async with httpx.AsyncClient(headers=headers, timeout=30) as http, http.stream("GET", url) as export:
        reading = export.aiter_raw()
        body = [await anext(reading)]  # the export has begun: now write, while it goes on
        last = task_ids[-1]
        assert (
            await http.post(f"{live.url}/api/tasks/{last}/annotations", json={"result": CHOICE})
        ).is_success
        added = await http.post(f"{live.url}/api/projects/{project_id}/import", json=[{"review_text": "new"}])
        assert added.is_success
        body += [chunk async for chunk in reading]
    tasks = orjson.loads(b"".join(body))
    assert [task["id"] for task in tasks] == task_ids
    assert tasks[-1]["annotations"] == []
