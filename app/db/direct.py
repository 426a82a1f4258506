"""Small prebuilt statements run on PostgreSQL's driver itself, inside the session's transaction.

SQLAlchemy's execution of a statement (cache lookup, execution context, cursor adapter, result
metadata) costs 40 to 60 microseconds of Python over the driver's own work, for statements that take
PostgreSQL a few; the label stream runs five such statements per next + submit (about 5% of the
server's CPU for them). Here a statement is compiled once and its values go through the columns' own
type processors, so the database receives what SQLAlchemy would send and the caller gets the rows
SQLAlchemy would return. On SQLite, and for a statement that would begin the transaction, it runs
through the session as usual; a read said to stand `alone` may run before the transaction begins (in
READ COMMITTED it sees what it would see as the transaction's first statement).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for the driver: its SQL, how to turn named values into positional
    arguments, and how to turn the columns it returns into Python values."""

    compiled: SQLCompiler
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(dict(params))
        return [
            values[name] if process is None else process(values[name])
            for name, process in zip(self.names, self.binds, strict=True)
        ]

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(record, self.results, strict=True)
        )


_PLANS: dict[int, tuple[Executable, _Plan]] = {}


def _plan(statement: Executable, dialect: Dialect) -> _Plan:
    """The statement's plan, made on first use (statements here are built once, so kept by identity)."""
    found = _PLANS.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.post_compile_params or compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a statement with values made at execution (expanded, defaults) cannot run directly")
    assert compiled.positiontup is not None
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
    columns = getattr(statement, "exported_columns", ())
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    plan = _Plan(compiled, names, binds, results)
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


async def rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any], *, alone: bool = False
) -> list[tuple[Any, ...]]:
    """The rows the statement returns (or none), run in the session's transaction (or, `alone`, a
    read that may run before it)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is not None and (alone or driver.is_in_transaction()):
            plan = _plan(statement, connection.dialect)
            try:
                records = await driver.fetch(plan.compiled.string, *plan.arguments(params))
            except Exception as exc:
                if _refused(exc):
                    raise  # the database refused the statement: its error, as through SQLAlchemy
                # anything else (the connection gone, a value the driver cannot take) left nothing
                # done: SQLAlchemy's own execution below meets it again and answers as for any
                # statement (for a lost connection, by replacing the pool's connections too)
            else:
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
