"""The stream's state, and which users hold a slot of a task (the overlap rules)."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from app.domain.project_settings import ProjectSettings
from app.domain.task_state import SkipQueue

Reason = Literal[
    "reservation", "draft", "ground_truth", "overlap_first", "order", "requeued_skip", "assigned"
]


@dataclass(frozen=True)
class TaskView:
    id: int
    inner_id: int
    overlap: int
    random_key: int
    allow_skip: bool = True
    has_ground_truth: bool = False
    prediction_score: float | None = None  # of the selected model version, for uncertainty


@dataclass(frozen=True)
class Work:
    """One annotation; `ground_truth` marks a verified answer that never fills a slot."""

    user_id: int
    task_id: int
    kind: Literal["submit", "skip"]
    at: datetime
    ground_truth: bool = False


@dataclass(frozen=True)
class Reservation:
    user_id: int
    task_id: int
    expires_at: datetime


@dataclass(frozen=True)
class StreamState:
    tasks: Mapping[int, TaskView]
    work: tuple[Work, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    assignments: frozenset[tuple[int, int]] = frozenset()  # (user, task)
    drafts: frozenset[tuple[int, int]] = frozenset()  # (user, task)
    paused: Mapping[int, str] = field(default_factory=dict)  # user -> why


@dataclass(frozen=True)
class NextDecision:
    """The task to serve and why, or None and why not ("no_more_tasks", "paused: ...", "limit_reached")."""

    task_id: int | None
    reason: str


def is_manual(settings: ProjectSettings) -> bool:
    return settings.annotation.assignment == "manual"


def counts_toward_overlap(settings: ProjectSettings, work: Work) -> bool:
    """Whether an annotation fills its author's slot.

    Skip Queue: under both requeue modes "Skipped tasks are not marked as completed"; under Ignore
    skipped with overlap 1 "the skipped task is marked as Completed", so a skip is a completion.
    Ground truth never counts (ambiguity 1).
    """
    if work.ground_truth:
        return False
    return work.kind == "submit" or settings.effective_skip_queue() is SkipQueue.IGNORE


def is_live(reservation: Reservation, now: datetime) -> bool:
    """A reservation remains until "the task reservation time expires": by time alone (T03)."""
    return reservation.expires_at > now


def slot_holders(settings: ProjectSettings, state: StreamState, task_id: int, now: datetime) -> set[int]:
    """Distinct users holding a slot of the task (see the package docstring).

    Task Reservation: "if your overlap is 2, then two annotators can reserve a task
    simultaneously"; an expired reservation holds nothing. Assignments: ambiguity 6.
    """
    worked = {w.user_id for w in state.work if w.task_id == task_id}
    return (
        {r.user_id for r in state.reservations if r.task_id == task_id and is_live(r, now)}
        | counted_users(settings, state, task_id)
        | {user for user, task in state.assignments if task == task_id and user not in worked}
    )


def counted_users(settings: ProjectSettings, state: StreamState, task_id: int) -> set[int]:
    """Users whose annotations of the task fill its slots."""
    return {w.user_id for w in state.work if w.task_id == task_id and counts_toward_overlap(settings, w)}


def reserved_by(state: StreamState, user_id: int, now: datetime) -> set[int]:
    """Tasks the user holds a live reservation on."""
    return {r.task_id for r in state.reservations if r.user_id == user_id and is_live(r, now)}


def has_room(
    settings: ProjectSettings, state: StreamState, task: TaskView, user_id: int, now: datetime
) -> bool:
    """The task is not full for the user: the slots held by others are fewer than its overlap.

    A user who already holds a slot keeps it, even if the overlap was lowered since (T06:
    "existing work kept", no *new* reservation beyond it). Annotator Evaluation: "ground truth
    tasks are not constrained by the annotator overlap".
    """
    if settings.quality.evaluation.enabled and task.has_ground_truth:
        return True
    holders = slot_holders(settings, state, task.id, now)
    return user_id in holders or len(holders) < max(task.overlap, 1)


def is_full(settings: ProjectSettings, state: StreamState, task: TaskView) -> bool:
    """Users' annotations fill the task's overlap: it is labeled. Only a user with a live reservation
    on it is served it again (they resume their work); an assignee is not, as that would take the
    annotations past the overlap (a manager's change, a ground truth moved or the skip queue set to
    ignore skipped, can fill a task an assignment still waits on). Under annotator evaluation a
    ground-truth task is never full."""
    if settings.quality.evaluation.enabled and task.has_ground_truth:
        return False
    return len(counted_users(settings, state, task.id)) >= max(task.overlap, 1)


def submitted_by(state: StreamState, user_id: int) -> set[int]:
    """Tasks the user submitted: never served to them again, in any mode."""
    return {w.task_id for w in state.work if w.user_id == user_id and w.kind == "submit"}


def last_skips(state: StreamState, user_id: int) -> dict[int, datetime]:
    """When the user last skipped each task: a skipped task "is moved to the bottom of their queue"."""
    skips: dict[int, datetime] = {}
    for w in state.work:
        if w.user_id == user_id and w.kind == "skip":
            skips[w.task_id] = max(w.at, skips.get(w.task_id, w.at))
    return skips


def worked_on(state: StreamState, user_id: int) -> set[int]:
    """Distinct tasks the user submitted or skipped: what the tasks-per-annotator limit counts."""
    return {w.task_id for w in state.work if w.user_id == user_id}


def skipped_task_returns(settings: ProjectSettings) -> bool:
    """Whether a skipped task comes back to the annotator who skipped it.

    Requeue back to the annotator: "They see the task again as they reach the end of their queue."
    Requeue to others: "the annotator cannot return to the skipped task". Ignore skipped: "the task
    is removed from the annotator's queue". Under Manual, to others "behaves the same as Ignore".
    """
    return settings.effective_skip_queue() is SkipQueue.REQUEUE_TO_ME


def check_invariant(state: StreamState, now: datetime, settings: ProjectSettings | None = None) -> list[str]:
    """What must never happen, as readable violations (empty when all is well).

    For every task: distinct users with a live reservation or a submitted annotation <= overlap;
    ground-truth annotations and skips are not counted. No annotator holds two live reservations
    (T01). Given the settings, manual projects are not checked (there "you are also manually
    determining overlap") and neither are ground-truth tasks under annotator evaluation (not
    constrained by overlap).
    """
    if settings is not None and is_manual(settings):
        return []
    live = [r for r in state.reservations if is_live(r, now)]
    violations = [
        f"user {user}: {count} live reservations"
        for user, count in Counter(r.user_id for r in live).items()
        if count > 1
    ]
    exempt_ground_truth = settings is not None and settings.quality.evaluation.enabled
    for task in state.tasks.values():
        if exempt_ground_truth and task.has_ground_truth:
            continue
        reserving = {r.user_id for r in live if r.task_id == task.id}
        submitting = {
            w.user_id
            for w in state.work
            if w.task_id == task.id and w.kind == "submit" and not w.ground_truth
        }
        taken = len(reserving | submitting)
        if taken > max(task.overlap, 1):
            violations.append(f"task {task.id}: {taken} reservations and annotators > overlap {task.overlap}")
    return violations
