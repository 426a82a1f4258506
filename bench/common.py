"""Shared pieces of the benchmarks: a Quorum server subprocess on a fresh database, percentiles."""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


def family(pid: int) -> list[int]:
    """A process and its children (uvicorn workers)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [int(p) for p in children]


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes, in MB."""
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return round(total / 1024, 1)


def _cpu_seconds(pid: int, *, exited_children: bool = False) -> float:
    """CPU time of a process; with `exited_children`, also of its children it has reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if exited_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    """All of PostgreSQL: the postmaster with the backends it has reaped, and the live ones."""
    pids = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    postmaster = subprocess.run(
        ["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True
    ).stdout.strip()
    return sum(_cpu_seconds(int(p), exited_children=p == postmaster) for p in pids)


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time used so far by the server (a process and its workers) and by PostgreSQL."""
    return {"server": sum(_cpu_seconds(p) for p in family(pid)), "postgres": _postgres_cpu_seconds()}


def machine() -> dict[str, Any]:
    """This machine's cores and how fast it runs Python now: the milliseconds of the fastest of
    three runs of a fixed loop of two million steps, run as a module's top level runs (each step
    stores its name in a dict). A shared machine's speed drifts by several times from day to day,
    and a run's figures scale with it; a loop of additions inside a function did not follow it."""
    return {
        "cores": os.cpu_count(),
        "python_module_loop_ms": round(min(_loop_seconds() for _ in range(3)) * 1000),
    }


LOOP = compile("for step in range(2_000_000): pass", "<loop>", "exec")


def _loop_seconds() -> float:
    started = time.perf_counter()
    exec(LOOP, {})
    return time.perf_counter() - started


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip()


@dataclass
class Server:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    database_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# pgbench's figures in BENCHMARKS.md connect through the local socket; so does the benchmarked server
# when the database runs on the same machine: loopback TCP costs the server a fifth of its CPU
PG_SOCKET = "/var/run/postgresql"


def _pg_location() -> str:
    """`user@/` plus the host query for asyncpg and SQLAlchemy; QUORUM_BENCH_PG_HOST overrides."""
    host = os.environ.get("QUORUM_BENCH_PG_HOST") or (PG_SOCKET if Path(PG_SOCKET).is_dir() else "127.0.0.1")
    return f"postgres@/{{database}}?host={host}&port=5432"


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A new empty PostgreSQL database (dropped afterwards) or SQLite file."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        return
    name = f"quorum_bench_{uuid.uuid4().hex[:8]}"
    location = _pg_location()

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(f"postgresql://{location.format(database='postgres')}")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{location.format(database=name)}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def server(database_url: str, workers: int = 1) -> Iterator[Server]:
    """`quorum start` in a subprocess with a known admin token; stopped at the end."""
    token = uuid.uuid4().hex
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "QUORUM_DATABASE_URL": database_url,
            "QUORUM_DATA_DIR": data_dir,
            "QUORUM_ADMIN_TOKEN": token,
            "QUORUM_ADMIN_PASSWORD": "bench-password",
            "QUORUM_MAX_REQUEST_BYTES": str(2 * 1024**3),
            "QUORUM_MAX_JSON_BYTES": str(2 * 1024**3),
        }
        env.pop("QUORUM_REDIS_URL", None)
        quorum = str(Path(sys.executable).parent / "quorum")
        # the server's log goes to a file: a pipe nobody reads fills, and the next line it logs blocks
        log = Path(data_dir) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [quorum, "start", "--port", str(port), "--workers", str(workers)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()}")
            time.sleep(0.2)
        try:
            yield Server(url, token, process, database_url)
        finally:
            process.terminate()
            process.wait(20)
