"""The async engine and session factory, with the few dialect differences in one place."""

import time
from typing import Any

import orjson
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


def _serialise_sqlite(engine: AsyncEngine) -> None:
    """Turn off pysqlite's own transaction handling and begin every transaction IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
