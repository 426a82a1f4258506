"""The label stream under load over HTTP: C annotators loop next -> submit; prints one JSON object.

python -m bench.label_stream --tasks 100000 --annotators 50 [--mode saturation|paced|both] [--seconds 30]
    [--warmup 3]

Each run measures a steady state: for its first `--warmup` seconds the crowd already works, but no
latency, submission or CPU second is counted. Those seconds hold each server worker's first
requests (statements compiled, pool connections opened), which no running server pays again.
"""

import argparse
import asyncio
import gc
import json
import random
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from app import __version__
from app.db.base import utcnow
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Annotation, ApiToken, Project, Task
from app.services import label_stream
from app.services.projects import settings_of
from bench.common import Server, commit, cpu_seconds, fresh_database, machine, percentiles, server
from bench.lean_http import LeanClient

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>"""
RESULT = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def setup(url: str, token: str, tasks: int, annotators: int) -> tuple[int, list[int]]:
    """A project with `tasks` tasks, overlap 2, and `annotators` member annotators."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=600) as http:
        project = http.post(
            "/api/projects", json={"title": "stream", "label_config": CONFIG, "maximum_annotations": 2}
        ).json()["id"]
        for start in range(0, tasks, 1000):
            batch = [{"text": f"task {i}"} for i in range(start, min(tasks, start + 1000))]
            http.post(f"/api/projects/{project}/import", json=batch).raise_for_status()
        user_ids = []
        for i in range(annotators):
            user = http.post("/api/users", json={"email": f"a{i}@bench.local", "role": "annotator"}).json()
            http.post(f"/api/projects/{project}/members", json={"user": user["id"]}).raise_for_status()
            user_ids.append(user["id"])
    return project, user_ids


async def tokens_of(database_url: str, user_ids: list[int]) -> list[str]:
    """Each annotator's own API token, read from the database the server uses."""
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(ApiToken.user_id, ApiToken.key).where(ApiToken.user_id.in_(user_ids))
        )
        keys = {user_id: key for user_id, key in rows}
    await engine.dispose()
    return [keys[u] for u in user_ids]


async def annotator(
    http: LeanClient, project: int, window: tuple[float, float], pause: float, stats: dict[str, Any]
) -> None:
    """Next -> submit until the window's end; what starts before the window is not counted."""
    counted_from, until = window
    try:
        await asyncio.sleep(random.uniform(0, pause))  # paced annotators start spread out, not at once
        while (started := time.perf_counter()) < until:
            counted = started >= counted_from
            response = await http.get(f"/api/projects/{project}/next")
            if counted:
                stats["next"].append(time.perf_counter() - started)
            if response.status_code == 404:
                return
            task_id = response.json()["id"]
            started = time.perf_counter()
            submitted = await http.post(f"/api/tasks/{task_id}/annotations", json={"result": RESULT})
            if counted:
                stats["submit"].append(time.perf_counter() - started)
                statuses = stats["statuses"]
                statuses[submitted.status_code] = statuses.get(submitted.status_code, 0) + 1
            if pause:
                await asyncio.sleep(pause * random.uniform(0.5, 1.5))
    finally:
        await http.aclose()


async def violations(database_url: str, project: int) -> dict[str, int]:
    """Tasks over their overlap, and users with two annotations on one task."""
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        per_task = (
            select(Annotation.task_id, func.count(Annotation.id).label("n"))
            .where(Annotation.project_id == project)
            .group_by(Annotation.task_id)
            .subquery()
        )
        over = await conn.scalar(
            select(func.count())
            .select_from(per_task.join(Task, Task.id == per_task.c.task_id))
            .where(per_task.c.n > Task.overlap)
        )
        pairs = (
            select(Annotation.task_id, Annotation.completed_by_id)
            .where(Annotation.project_id == project)
            .group_by(Annotation.task_id, Annotation.completed_by_id)
            .having(func.count(Annotation.id) > 1)
            .subquery()
        )
        duplicates = await conn.scalar(select(func.count()).select_from(pairs))
    await engine.dispose()
    return {"overlap_violations": over or 0, "duplicate_user_task_pairs": duplicates or 0}


async def pick_plan(database_url: str, project: int, user_id: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the pick the stream would run next for the user, with the values
    the server would bind (rolled back: it locks a task)."""
    engine = make_engine(database_url)
    async with make_sessionmaker(engine)() as session:
        settings = settings_of(await session.get_one(Project, project))
        pick = label_stream._queues(label_stream.Form.of(settings), False)[0][0].first
        compiled = pick.compile(dialect=engine.dialect)
        values = compiled.construct_params(label_stream._params(project, user_id, utcnow(), settings))
        arguments = tuple(values[name] for name in compiled.positiontup)
        connection = await session.connection()
        plan = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", arguments)
        lines = [str(line) for line in plan.scalars()]
        await session.rollback()
    await engine.dispose()
    return lines


def run_mode(
    quorum: Server, tokens: list[str], project: int, mode: str, seconds: float, rate: float, warmup: float
) -> dict[str, Any]:
    """One timed run: saturation (no pause) or paced (the whole crowd offers `rate` cycles/s)."""
    pause = len(tokens) / rate if mode == "paced" else 0.0
    stats: dict[str, Any] = {"next": [], "submit": [], "statuses": {}}
    cpu_before: dict[str, float] = {}

    async def crowd() -> float:
        # clients are built before the clock starts: building one blocks the loop for tens of ms on
        # a slow CPU, which would hold back annotators whose start time has come and send them at once
        clients = [LeanClient(quorum.url, token) for token in tokens]
        # nor should this process's garbage collector pause the crowd in the middle of a request
        gc.collect()
        gc.freeze()
        counted_from = time.perf_counter() + warmup
        window = (counted_from, counted_from + seconds)
        work = asyncio.gather(*(annotator(http, project, window, pause, stats) for http in clients))
        await asyncio.sleep(warmup)
        cpu_before.update(cpu_seconds(quorum.process.pid))
        await work
        return time.perf_counter() - counted_from

    elapsed = asyncio.run(crowd())
    cpu = {name: used - cpu_before[name] for name, used in cpu_seconds(quorum.process.pid).items()}
    submissions = stats["statuses"].get(201, 0)
    return {
        "mode": mode,
        "offered_cycles_per_s": rate if mode == "paced" else None,
        "warmup_seconds": warmup,
        "seconds": round(elapsed, 1),
        "submissions": submissions,
        "submissions_per_s": round(submissions / elapsed, 1),
        # CPU per next + submit cycle: what a cycle costs, steadier than rates on a shared machine
        "cpu_ms_per_cycle": {name: round(used * 1000 / max(submissions, 1), 2) for name, used in cpu.items()},
        "submit_statuses": stats["statuses"],
        "next_ms": percentiles(stats["next"]),
        "submit_ms": percentiles(stats["submit"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--mode", choices=["saturation", "paced", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1, help="server processes (the goals are for one)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--rate", type=float, default=100, help="cycles/s the crowd offers when paced")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of each run not counted")
    args = parser.parse_args()
    modes = ["saturation", "paced"] if args.mode == "both" else [args.mode]
    speed = machine()
    with fresh_database(args.db) as url, server(url, workers=args.workers) as quorum:
        project, user_ids = setup(quorum.url, quorum.token, args.tasks, args.annotators)
        tokens = asyncio.run(tokens_of(url, user_ids))
        runs = [
            run_mode(quorum, tokens, project, mode, args.seconds, args.rate, args.warmup) for mode in modes
        ]
        checked = asyncio.run(violations(url, project))
        plan = asyncio.run(pick_plan(url, project, user_ids[-1])) if args.db == "postgres" else []
    print(
        json.dumps(
            {
                "benchmark": "label_stream",
                "version": __version__,
                "commit": commit(),
                "machine": speed,
                "database": args.db,
                "tasks": args.tasks,
                "annotators": args.annotators,
                "server_workers": args.workers,
                "runs": runs,
                **checked,
                "pick_plan": plan,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
