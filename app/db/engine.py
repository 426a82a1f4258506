"""The async engine and session factory, with the few dialect differences in one place."""

import time
from typing import Any

import orjson
import regex
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine; on SQLite every transaction is `BEGIN IMMEDIATE`, so writers are serialised."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, json_serializer=_dumps, json_deserializer=orjson.loads, connect_args={"timeout": 30}
        )
        _serialise_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        # JIT compiles a query whose estimated cost is high, as after a large import before its
        # statistics are in: a quarter second per export batch of a millisecond's work. Nothing
        # Quorum asks runs long enough to win that back.
        connect_args={"server_settings": {"jit": "off"}},
    )
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Test a pooled connection before use only when it sat idle: a restarted database leaves the
    pool's connections dead, and the ping (three round trips) is a third of a busy request's trips.

    A connection that fails its ping is replaced; one in use when the database went away fails its
    request (a 503), and SQLAlchemy then drops every connection of the pool older than the failure.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError from error


REGEX_SECONDS = 5.0  # what one SQLite statement may spend matching regex filters


def _serialise_sqlite(engine: AsyncEngine) -> None:
    """Turn off pysqlite's own transaction handling and begin every transaction IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        record.info["regexp_deadline"] = _bounded_regexp(dbapi_connection)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(conn: Any, *_args: Any) -> None:
        conn.info["regexp_deadline"][0] = time.monotonic() + REGEX_SECONDS

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _bounded_regexp(dbapi_connection: Any) -> list[float]:
    """SQLite's REGEXP (a regex filter), with a time limit per statement; returns the deadline's holder.

    Python's `re` can take exponential time on a pattern such as `(a|a)+$`, holding the GIL, and this
    transaction holds SQLite's write lock: one project member's filter would stop the whole server.
    Here matching releases the GIL and fails the statement once it ran `REGEX_SECONDS`.
    """
    deadline = [time.monotonic() + REGEX_SECONDS]

    def regexp(pattern: str, value: Any) -> bool | None:
        if value is None:
            return None
        left = deadline[0] - time.monotonic()
        if left <= 0:
            raise TimeoutError("regex filter ran out of time")
        return regex.search(pattern, str(value), timeout=left, concurrent=True) is not None

    dbapi_connection.create_function("regexp", 2, regexp, deterministic=True)
    return deadline


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
