"""Alembic environment: runs on a connection handed in, or on QUORUM settings' database."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.config import Settings
from app.db import models  # noqa: F401  (registers every table)
from app.db.base import Base
from app.db.engine import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.attributes.get("url") or Settings().resolved_database_url
    asyncio.run(_run_async(url))
