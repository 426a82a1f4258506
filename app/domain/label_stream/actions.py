"""What the service does on next, submit and skip, as pure state transitions."""

from dataclasses import replace
from datetime import datetime, timedelta

from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.label_stream.state import (
    NextDecision,
    Reservation,
    StreamState,
    TaskView,
    Work,
    has_room,
    is_live,
    is_manual,
    skipped_task_returns,
)
from app.domain.label_stream.stream import next_task
from app.domain.project_settings import ProjectSettings


def serve(
    settings: ProjectSettings, state: StreamState, user_id: int, now: datetime
) -> tuple[StreamState, NextDecision]:
    """`next_task`, then reserve the task: "A task reservation is put in place as soon as an annotator
    opens the task", for `reservation_minutes`. One reservation per annotator (T01): it replaces any
    other of theirs; serving the same task again refreshes it (T02). Manual assignment reserves nothing.
    """
    decision = next_task(settings, state, user_id, now)
    if decision.task_id is None or is_manual(settings):
        return state, decision
    expires_at = now + timedelta(minutes=settings.annotation.reservation_minutes)
    others = tuple(r for r in state.reservations if r.user_id != user_id)
    return replace(
        state, reservations=(*others, Reservation(user_id, decision.task_id, expires_at))
    ), decision


def check_submit(
    settings: ProjectSettings, state: StreamState, user_id: int, task_id: int, now: datetime
) -> None:
    """Refuse work that would take a slot the user does not have.

    Manual: only assigned tasks (Forbidden). Automatic: a late submit after the reservation expired
    and others filled the task is a Conflict (T04); the service keeps the payload as a draft.
    """
    if is_manual(settings):
        if (user_id, task_id) not in state.assignments:
            raise Forbidden("This task is not assigned to you.")
    elif not has_room(settings, state, state.tasks[task_id], user_id, now):
        raise Conflict("Your reservation expired and the task was taken by other annotators.")


def submit(
    settings: ProjectSettings, state: StreamState, user_id: int, task_id: int, now: datetime
) -> StreamState:
    """Submit: the reservation ends ("The annotator submits the task") and the draft is consumed."""
    check_submit(settings, state, user_id, task_id, now)
    return replace(
        state,
        work=(*state.work, Work(user_id, task_id, "submit", now)),
        reservations=tuple(r for r in state.reservations if (r.user_id, r.task_id) != (user_id, task_id)),
        drafts=state.drafts - {(user_id, task_id)},
    )


def can_skip(settings: ProjectSettings, task: TaskView, comment: str | None) -> None:
    """Task Skipping: "Allow skipping tasks", individual unskippable tasks, "Require comment to skip"."""
    if not settings.annotation.allow_skip:
        raise Invalid("Skipping is turned off in this project.", field="was_cancelled")
    if not task.allow_skip:
        raise Invalid("This task cannot be skipped.", field="was_cancelled")
    if settings.annotation.require_comment_to_skip and not (comment and comment.strip()):
        raise Invalid("Leave a comment to skip this task.", field="comment")


def skip(
    settings: ProjectSettings,
    state: StreamState,
    user_id: int,
    task_id: int,
    comment: str | None,
    now: datetime,
) -> StreamState:
    """Skip: the reservation ends only if "the project Skip Queue setting is either Requeue skipped
    tasks to others or Ignore skipped" (ambiguity 2 for requeue to me)."""
    can_skip(settings, state.tasks[task_id], comment)
    check_submit(settings, state, user_id, task_id, now)
    reservations = state.reservations
    if not skipped_task_returns(settings):
        reservations = tuple(r for r in reservations if (r.user_id, r.task_id) != (user_id, task_id))
    return replace(
        state,
        work=(*state.work, Work(user_id, task_id, "skip", now)),
        reservations=reservations,
        drafts=state.drafts - {(user_id, task_id)},
    )


def save_draft(
    settings: ProjectSettings, state: StreamState, user_id: int, task_id: int, now: datetime
) -> StreamState:
    """Save a draft: it keeps the user's reservation of the task alive while they work (ambiguity 5);
    an expired one is renewed only while the task still has room for them (T04)."""
    drafts = state.drafts | {(user_id, task_id)}
    until = now + timedelta(minutes=settings.annotation.reservation_minutes)
    reservations = []
    for r in state.reservations:
        renew = (r.user_id, r.task_id) == (user_id, task_id) and not is_manual(settings)
        if renew and (is_live(r, now) or has_room(settings, state, state.tasks[task_id], user_id, now)):
            r = Reservation(user_id, task_id, until)
        reservations.append(r)
    return replace(state, drafts=drafts, reservations=tuple(reservations))


def pause(state: StreamState, user_id: int, reason: str) -> StreamState:
    """Pause an annotator: their reservation ends at once, their drafts are kept (T14), and they are
    served nothing until unpaused ("When paused, an annotator can no longer access the project")."""
    return replace(
        state,
        reservations=tuple(r for r in state.reservations if r.user_id != user_id),
        paused={**state.paused, user_id: reason},
    )


def unpause(state: StreamState, user_id: int) -> StreamState:
    return replace(state, paused={u: why for u, why in state.paused.items() if u != user_id})
