"""Jobs asked for during a unit of work, sent only after it commits."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

PENDING = "pending_jobs"


def enqueue(session: AsyncSession, name: str, **kwargs: Any) -> None:
    """Ask for job `name` once the current transaction commits; dropped if it rolls back."""
    session.info.setdefault(PENDING, []).append((name, kwargs))


def take_pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    """The jobs asked for so far, emptying the buffer (called by the boundary after commit)."""
    pending: list[tuple[str, dict[str, Any]]] = session.info.pop(PENDING, [])
    return pending
