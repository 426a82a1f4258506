"""Drafts: unsubmitted work that keeps the annotator's reservation alive; never an annotation."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Draft, Project, Task, TaskReservation
from app.domain.errors import Invalid, NotFound
from app.domain.roles import Actor
from app.services import label_stream
from app.services.projects import settings_of
from app.services.tasks import get_task


def _fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "result" in payload:
        if not isinstance(payload["result"], list):
            raise Invalid("result must be a list of result items", field="result")
        fields["result"] = payload["result"]
    if "lead_time" in payload:
        lead_time = payload["lead_time"]
        if lead_time is not None and (isinstance(lead_time, bool) or not isinstance(lead_time, int | float)):
            raise Invalid("lead_time must be a number of seconds", field="lead_time")
        fields["lead_time"] = lead_time
    if "was_postponed" in payload:
        fields["was_postponed"] = bool(payload["was_postponed"])
    return fields


async def save_draft(
    session: AsyncSession, actor: Actor, task_id: int, payload: Mapping[str, Any], now: datetime
) -> Draft:
    """Create or update the caller's draft of a task, and keep their reservation of it alive."""
    task = await get_task(session, actor, task_id, for_update=True)
    draft = await session.scalar(
        select(Draft).where(
            Draft.task_id == task.id, Draft.user_id == actor.user_id, Draft.annotation_id.is_(None)
        )
    )
    if draft is None:
        draft = Draft(task_id=task.id, project_id=task.project_id, user_id=actor.user_id, version=0)
        session.add(draft)
    for name, value in _fields(payload).items():
        setattr(draft, name, value)
    draft.version += 1
    draft.updated_at = now
    await _keep_reservation(session, task, actor.user_id, now)
    await session.flush()
    return draft


async def _keep_reservation(session: AsyncSession, task: Task, user_id: int, now: datetime) -> None:
    """Extend a live reservation; renew an expired one only if the slot is still free (T04)."""
    settings = settings_of(await session.get_one(Project, task.project_id))
    if settings.annotation.assignment == "manual":
        return
    reservation = await session.scalar(
        select(TaskReservation).where(TaskReservation.task_id == task.id, TaskReservation.user_id == user_id)
    )
    if reservation is None:
        return
    if reservation.expires_at <= now and not await label_stream.room_left(
        session, task, user_id, settings, now
    ):
        return
    reservation.expires_at = now + timedelta(minutes=settings.annotation.reservation_minutes)


async def get_draft(session: AsyncSession, actor: Actor, draft_id: int) -> Draft:
    """The caller's own draft; anyone else's is 404."""
    draft = await session.get(Draft, draft_id)
    if draft is None or draft.user_id != actor.user_id:
        raise NotFound("Not found.")
    await get_task(session, actor, draft.task_id)
    return draft


async def list_drafts(session: AsyncSession, actor: Actor, task_id: int) -> list[Draft]:
    task = await get_task(session, actor, task_id)
    return await drafts_of(session, task.id, actor.user_id)


async def drafts_of(session: AsyncSession, task_id: int, user_id: int) -> list[Draft]:
    rows = await session.scalars(
        select(Draft).where(Draft.task_id == task_id, Draft.user_id == user_id).order_by(Draft.id)
    )
    return list(rows)


async def update_draft(
    session: AsyncSession, actor: Actor, draft_id: int, payload: Mapping[str, Any], now: datetime
) -> Draft:
    draft = await get_draft(session, actor, draft_id)
    return await save_draft(session, actor, draft.task_id, payload, now)


async def delete_draft(session: AsyncSession, actor: Actor, draft_id: int) -> None:
    draft = await get_draft(session, actor, draft_id)
    await session.execute(delete(Draft).where(Draft.id == draft.id))


# Built once, on the table rather than through the ORM (less work per call): every submit runs it.
DRAFTS = cast(Table, Draft.__table__)
CONSUME = DRAFTS.delete().where(
    DRAFTS.c.task_id == bindparam("task_id"), DRAFTS.c.user_id == bindparam("user_id")
)


async def consume_drafts(session: AsyncSession, task_id: int, user_id: int) -> None:
    """A submit or skip uses up the user's drafts of the task."""
    await session.execute(CONSUME, {"task_id": task_id, "user_id": user_id})
