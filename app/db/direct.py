"""Small prebuilt statements run on PostgreSQL's driver itself, inside the session's transaction.

SQLAlchemy's execution of a statement (cache lookup, execution context, cursor adapter, result
metadata) costs 40 to 60 microseconds of Python over the driver's own work, for statements that take
PostgreSQL a few, and loading whole objects through the ORM as much again. Here a statement is
compiled once and its values go through the columns' own type processors, so the database receives
what SQLAlchemy would send and the caller gets the rows SQLAlchemy would return; `objects` turns whole
rows of mapped classes into the session's persistent objects, as the ORM's loading does. The first
statement of a transaction begins it the way SQLAlchemy's own first statement would. On SQLite a
statement runs through the session as usual; a read said to stand `alone` may run before the
transaction begins (in READ COMMITTED it sees what it would see as the transaction's first statement).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import Dialect, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, ColumnElement, Executable, FromClause

Processor = Callable[[Any], Any] | None


_REQUIRED = object()  # a bind built without a value: the caller must give one


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for the driver: its SQL, where each positional value comes from, and how
    to turn the columns it returns into Python values."""

    compiled: SQLCompiler
    binds: tuple[tuple[str, str, Any, Processor], ...]  # key, name, value when not given, processor
    results: tuple[Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The values in order, each by its bind's key (or name) in `params`, else the value the
        bind was built with, as SQLAlchemy's `construct_params` takes them (which costs as much as
        the rest of the statement's Python here)."""
        values = []
        for key, name, built, process in self.binds:
            value = params[key] if key in params else params.get(name, built)
            if value is _REQUIRED:
                raise KeyError(key)  # SQLAlchemy's execution says which value is missing
            values.append(value if process is None else process(value))
        return values

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(record, self.results, strict=True)
        )


_PLANS: dict[int, tuple[Executable, _Plan | None]] = {}


async def _plan(statement: Executable, dialect: Dialect, driver: asyncpg.Connection) -> _Plan | None:
    """The statement's plan, made on first use (statements here are built once, so kept by identity);
    None for one whose SQL or values are made at each execution (a list expanded, a default
    computed, a value computed by a function) or whose values SQLAlchemy renames: SQLAlchemy runs
    that one. Some result processors depend on the type the database returns (a float column may
    come as a numeric), so the statement is prepared once to learn it."""
    found = _PLANS.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    assert compiled.positiontup is not None
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[name] for name in names)
    if (
        compiled.post_compile_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or compiled._collected_params
        or any(bind.callable for bind in binds)
    ):
        _PLANS[id(statement)] = (statement, None)
        return None
    sources = tuple(
        (
            bind.key,
            name,
            _REQUIRED if bind.required else bind.value,
            bind.type.dialect_impl(dialect).bind_processor(dialect),
        )
        for name, bind in zip(names, binds, strict=True)
    )
    returned = (await driver.prepare(compiled.string)).get_attributes()
    columns = getattr(statement, "exported_columns", ())
    results = tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
        for c, attribute in zip(columns, returned, strict=True)
    )
    plan = _Plan(compiled, sources, results)
    _PLANS[id(statement)] = (statement, plan)
    return plan


# SQLSTATEs of a connection that is gone: connection exceptions, the server shutting down
LOST = ("08", "57P")


def _refused(exc: Exception) -> bool:
    """An error the server sent about the statement (one the driver raised itself has no severity)."""
    return (
        isinstance(exc, asyncpg.PostgresError)
        and exc.severity is not None
        and not str(exc.sqlstate).startswith(LOST)
    )


async def _driver(session: AsyncSession, alone: bool) -> tuple[asyncpg.Connection, Dialect] | None:
    """The driver's connection of the session when a statement can run on it: in the session's
    transaction, begun here if it was not yet, or before it for a read that stands `alone`.

    The session's transaction keeps its connection, so it is looked up once per transaction (a
    read `alone` before it begins included): each lookup passes through SQLAlchemy's greenlet twice."""
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_KEPT)
    if kept is None or kept[0] is not transaction:
        connection = await session.connection()
        raw = await connection.get_raw_connection() if connection.dialect.name == "postgresql" else None
        kept = (session.sync_session.get_transaction(), raw, connection.dialect)
        session.info[_KEPT] = kept
    _, raw, dialect = kept
    driver: asyncpg.Connection | None = None if raw is None else raw.driver_connection
    if raw is None or driver is None:
        return None
    if not driver.is_in_transaction() and not alone:
        try:
            # SQLAlchemy's adapter begins the transaction on its connection's first statement; this
            # is that beginning, so its commit and rollback end this transaction as their own
            await raw.dbapi_connection._start_transaction()  # type: ignore[union-attr]
        except Exception:
            return None  # SQLAlchemy's execution meets the same failure and answers as for any statement
        if not driver.is_in_transaction():
            return None
    return driver, dialect


_KEPT = "direct.driver"  # the session's transaction, its raw connection (None: not PostgreSQL), dialect


async def rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any], *, alone: bool = False
) -> list[tuple[Any, ...]]:
    """The rows the statement returns (or none), run in the session's transaction (or, `alone`, a
    read that may run before it)."""
    found = await _driver(session, alone)
    if found is not None:
        driver, dialect = found
        try:
            plan = await _plan(statement, dialect, driver)
            records = (
                None if plan is None else await driver.fetch(plan.compiled.string, *plan.arguments(params))
            )
        except Exception as exc:
            if _refused(exc):
                raise  # the database refused the statement: its error, as through SQLAlchemy
            # anything else (the connection gone, a value the driver cannot take) left nothing
            # done: SQLAlchemy's own execution below meets it again and answers as for any
            # statement (for a lost connection, by replacing the pool's connections too)
        else:
            if plan is not None and records is not None:
                return [plan.row(record) for record in records]
    return [tuple(row) for row in await session.execute(statement, params)]


async def first(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any], *, alone: bool = False
) -> tuple[Any, ...] | None:
    found = await rows(session, statement, params, alone=alone)
    return found[0] if found else None


async def scalar(session: AsyncSession, statement: Executable, params: Mapping[str, Any]) -> Any:
    row = await first(session, statement, params)
    return None if row is None else row[0]


def columns_of(entity: type, table: FromClause | None = None) -> list[ColumnElement[Any]]:
    """A mapped class's columns in the order `objects` reads them; of `table`, an alias of the
    class's table, when given."""
    columns: list[ColumnElement[Any]] = [prop.columns[0] for prop in _mapper(entity).column_attrs]
    return columns if table is None else [table.c[str(column.key)] for column in columns]


async def objects(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any], entities: Sequence[type]
) -> list[tuple[Any, ...]]:
    """The statement's rows, whose leading columns are whole rows of `entities` (each in `columns_of`
    order), with those as the session's persistent objects."""
    found = await rows(session, statement, params)
    return [_attached(session.sync_session, row, entities) for row in found]


def _attached(session: Session, row: Sequence[Any], entities: Sequence[type]) -> tuple[Any, ...]:
    """The row with its leading whole rows of `entities` as persistent objects of the session: the
    one already there refreshed (as the ORM's populate_existing does), else a new one; None for an
    outer join's missing row."""
    loaded: list[Any] = []
    at = 0
    for entity in entities:
        mapper, keys, primary = _layout(entity)
        part = row[at : at + len(keys)]
        at += len(keys)
        identity = tuple(part[i] for i in primary)
        loaded.append(None if None in identity else _persistent(session, mapper, keys, identity, part))
    return (*loaded, *row[at:])


def _persistent(
    session: Session,
    mapper: Mapper[Any],
    keys: tuple[str, ...],
    identity: tuple[Any, ...],
    values: Sequence[Any],
) -> Any:
    present = session.identity_map.get(mapper.identity_key_from_primary_key(identity))
    if present is not None:
        for key, value in zip(keys, values, strict=True):
            set_committed_value(present, key, value)
        return present
    instance = mapper.class_manager.new_instance()
    instance_state(instance).dict.update(zip(keys, values, strict=True))
    make_transient_to_detached(instance)  # as loaded: its values committed, its identity known
    session.add(instance)
    return instance


def _mapper(entity: type) -> Mapper[Any]:
    return cast(Mapper[Any], inspect(entity))


@cache
def _layout(entity: type) -> tuple[Mapper[Any], tuple[str, ...], tuple[int, ...]]:
    """The class's mapper, its column attributes in `columns_of` order, and where its primary key is."""
    mapper = _mapper(entity)
    keys = tuple(prop.key for prop in mapper.column_attrs)
    primary = tuple(keys.index(mapper.get_property_by_column(column).key) for column in mapper.primary_key)
    return mapper, keys, primary
