"""Test databases: a fresh PostgreSQL database (or SQLite file) per run, emptied after each test.

QUORUM_TEST_DB=postgres (the default) needs PostgreSQL at QUORUM_TEST_PG (default
127.0.0.1:5432, user postgres); QUORUM_TEST_DB=sqlite runs on a temporary file. Under CI=true a
missing PostgreSQL or Redis fails the run instead of skipping.
"""

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db.base import Base
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.main import create_app
from app.workers.queue import InProcessQueue

PG = os.environ.get("QUORUM_TEST_PG", "postgres@127.0.0.1:5432")
BACKEND = os.environ.get("QUORUM_TEST_DB", "postgres")
IN_CI = os.environ.get("CI") == "true"
REDIS_URL = os.environ.get("QUORUM_TEST_REDIS", "redis://127.0.0.1:6379/15")


def need(service: str, reason: str) -> None:
    """Skip on a developer machine without the service; fail in CI."""
    if IN_CI:
        pytest.fail(f"{service} is required in CI: {reason}")
    pytest.skip(f"{service} unavailable: {reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite only the core suite runs (tests marked or in modules marked `core`)."""
    if BACKEND == "sqlite":
        keep = [i for i in items if i.get_closest_marker("core")]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "quorum.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"quorum_test_{uuid.uuid4().hex[:10]}"
    admin = f"postgresql://{PG}/postgres"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        need("PostgreSQL", str(exc))
    url = f"postgresql+asyncpg://{PG}/{name}"
    upgrade(url)
    yield url
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="test-secret",
        redis_url="",
        max_request_bytes=5 * 1024 * 1024,
        max_json_bytes=2 * 1024 * 1024,
        import_sync_bytes=64 * 1024,
        reap_seconds=0,  # tests that leave jobs pending on purpose are their only runner
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on an empty database; the test commits what it wants others to see."""
    async with make_sessionmaker(engine)() as session:
        yield session
    await empty_tables(engine)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (lifespan run, jobs in-process)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quorum.test") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
        queue = app.state.queue
        if isinstance(queue, InProcessQueue):
            await queue.drain()
    await empty_tables(engine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on a free loopback port in a thread."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """Shared by the whole session."""
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
async def live(live_server: LiveServer, engine: AsyncEngine) -> AsyncIterator[LiveServer]:
    """The live server, with the database emptied after the test."""
    yield live_server
    await empty_tables(engine)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        need("Redis", str(exc))
    return REDIS_URL


ROOT = Path(__file__).resolve().parents[1]
