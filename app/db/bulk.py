"""Bulk work: PostgreSQL's COPY, SQLite's executemany, ids drawn up front so callers know them, and
lists of ids of any length in one parameter."""

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    Integer,
    String,
    Table,
    TypeDecorator,
    bindparam,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql._typing import _ColumnExpressionArgument
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


async def allocate_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """Reserve `count` primary keys for `table` (PostgreSQL: from its sequence in one query)."""
    if count == 0:
        return []
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        sequence = await _sequence_of(session, table.name)
        # the name as a constant, resolved once when planned; as a parameter it is looked up per id
        query = text(f"SELECT nextval('{sequence}'::regclass) FROM generate_series(1, :n)")
        return list(await session.scalars(query, {"n": count}))
    start = (await session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}"))).scalar_one()
    return list(range(start + 1, start + 1 + count))


_SEQUENCES: dict[str, str] = {}


async def _sequence_of(session: AsyncSession, table: str) -> str:
    """The sequence behind a table's id (a fact of the schema, so asked once per process)."""
    if table not in _SEQUENCES:
        query = text("SELECT pg_get_serial_sequence(:table, 'id')")
        _SEQUENCES[table] = (await session.scalar(query, {"table": table})).replace("'", "''")
    return _SEQUENCES[table]


Rows = list[tuple[Any, ...]]
Encoder = Callable[[Any], str]


async def copy_rows(session: AsyncSession, table: Table, columns: Sequence[str], rows: Rows) -> None:
    """Insert many rows fast: COPY on PostgreSQL (JSON columns given as Python values)."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    await _copy(session, table, columns, copy_text(text_encoders(table, columns), rows))


async def _copy(session: AsyncSession, table: Table, columns: Sequence[str], payload: bytes) -> None:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_to_table(table.name, source=_once(payload), columns=list(columns), format="text")


async def _once(payload: bytes) -> AsyncIterator[bytes]:
    yield payload


def copy_text(encoders: Sequence[Encoder], rows: Rows) -> bytes:
    """Rows in COPY's text format: a line each, values apart by tabs, `\\N` for NULL."""
    lines = [
        "\t".join([_NULL if v is None else f(v) for f, v in zip(encoders, row, strict=True)]) for row in rows
    ]
    return ("\n".join(lines) + "\n").encode() if lines else b""


_NULL = "\\N"
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(text: str) -> str:
    """Text as COPY's text format takes it: backslashes, tabs and line ends escaped."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text) if _SPECIAL.search(text) else text


def _json(value: Any) -> str:
    return _escaped(orjson.dumps(value).decode())


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def _float(value: float) -> str:
    return repr(float(value))


class _Stamp:
    """Timestamps in ISO form, the last one remembered: a bulk write stamps its rows alike."""

    def __init__(self) -> None:
        self._last: tuple[datetime | None, str] = (None, "")

    def __call__(self, value: datetime) -> str:
        if value is not self._last[0]:
            self._last = (value, value.isoformat())
        return self._last[1]


def text_encoders(table: Table, columns: Sequence[str]) -> list[Encoder]:
    """How each column's values are written in COPY's text format, by the column's type."""
    stamp = _Stamp()
    return [_encoder(table.c[name].type, stamp) for name in columns]


def _encoder(kind: TypeEngine[Any], stamp: _Stamp) -> Encoder:
    kind = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    if isinstance(kind, JSON):
        return _json
    if isinstance(kind, DateTime):
        return stamp
    if isinstance(kind, Boolean):
        return _boolean
    if isinstance(kind, Float):
        return _float
    return str if isinstance(kind, Integer) else _escaped


class CopyPipe:
    """Rows written by a task of their own on the session's connection while the caller builds the
    next ones, so the database inserts and checks one part as Python prepares the next (and, on
    PostgreSQL, encodes it for COPY). Each turn writes all that was queued, table by table in the
    order named: a parent's rows go before its children's. The caller leaves the session alone
    until the pipe is closed."""

    def __init__(self, session: AsyncSession, tables: Sequence[tuple[Table, Sequence[str]]]) -> None:
        self._session = session
        self._tables = tables
        self._encoders = [text_encoders(*table) for table in tables]
        self._copy = session.get_bind().dialect.name == "postgresql"
        self._queued: list[list[Any]] = [[] for _ in tables]
        self._wake = asyncio.Event()
        self._closed = False
        self.writer = asyncio.create_task(self._write())

    async def add(self, *rows: Rows) -> None:
        """Queue rows for each table, in the order named, and give the writer its turn."""
        if self.writer.done():
            self.writer.result()  # its error, at once
        for queued, more, encoders in zip(self._queued, rows, self._encoders, strict=True):
            if not more:
                continue
            if self._copy:
                queued.append(copy_text(encoders, more))
            else:
                queued.extend(more)
        self._wake.set()
        await asyncio.sleep(0)

    def close(self, *, drop: bool = False) -> None:
        """No more rows: the writer ends once it has written what is queued (or, with `drop`,
        once the part it is writing is written)."""
        if drop:
            self._queued = [[] for _ in self._tables]
        self._closed = True
        self._wake.set()

    async def _write(self) -> None:
        while not self._closed or any(self._queued):
            await self._wake.wait()
            self._wake.clear()
            batches, self._queued = self._queued, [[] for _ in self._tables]
            for (table, columns), batch in zip(self._tables, batches, strict=True):
                if not batch:
                    continue
                if self._copy:
                    await _copy(self._session, table, columns, b"".join(batch))
                else:
                    await copy_rows(self._session, table, columns, batch)


@asynccontextmanager
async def copy_pipe(session: AsyncSession, *tables: tuple[Table, Sequence[str]]) -> AsyncIterator[CopyPipe]:
    """A `CopyPipe` whose rows are all written on leaving. On an error the part being written is
    finished, not cut off mid-COPY (unless cancelled), and the rest dropped: the caller's rollback
    undoes them."""
    pipe = CopyPipe(session, tables)
    try:
        yield pipe
    except BaseException as exc:
        pipe.close(drop=True)
        if not isinstance(exc, Exception):  # cancelled: the COPY under way stops too
            pipe.writer.cancel()
        await asyncio.wait([pipe.writer])  # the session is the caller's again before it rolls back
        if not pipe.writer.cancelled():
            pipe.writer.exception()  # seen: the caller's error is the one to report
        raise
    pipe.close()
    await pipe.writer


class _Ids(TypeDecorator[list[int]]):
    """A list of ids as one parameter: an array on PostgreSQL, JSON text on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(ARRAY(BigInteger()) if dialect.name == "postgresql" else String())

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return value
        try:
            return orjson.dumps(value).decode()
        except TypeError as exc:  # an integer past 64 bits, as asyncpg reports one for an array
            raise OverflowError(str(exc)) from exc


class among(ColumnElement[bool]):
    """`column IN (values)` with the values sent as one parameter however many there are: a
    parameter per value stops at 32,767 (asyncpg) or 32,766 (SQLite). PostgreSQL takes an array
    (and, knowing its length, plans for it); SQLite a JSON list it reads with json_each."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: _ColumnExpressionArgument[Any], values: Iterable[int]) -> None:
        self.column: ColumnElement[Any] = coercions.expect(roles.ExpressionElementRole, column)
        self.values = bindparam(None, list(values), type_=_Ids(), unique=True)


@compiles(among, "postgresql")
def _among_postgresql(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"({column} = ANY({values}))"


@compiles(among, "sqlite")
def _among_sqlite(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"({column} IN (SELECT value FROM json_each({values})))"
