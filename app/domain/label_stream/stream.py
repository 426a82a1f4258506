"""The serving order: which tasks a user may get now, and which one comes next."""

from collections.abc import Iterable
from datetime import datetime

from app.domain.label_stream.quotas import annotator_limit
from app.domain.label_stream.state import (
    NextDecision,
    Reason,
    StreamState,
    TaskView,
    has_room,
    is_full,
    is_manual,
    last_skips,
    reserved_by,
    skipped_task_returns,
    submitted_by,
    worked_on,
)
from app.domain.project_settings import ProjectSettings


def blocked_reason(settings: ProjectSettings, state: StreamState, user_id: int) -> str | None:
    """Why the user gets nothing at all: "When paused, an annotator can no longer access the project".

    A pause is reported as such, never as "no more tasks" (T14).
    """
    if user_id in state.paused:
        return f"paused: {state.paused[user_id]}"
    limit = annotator_limit(settings, len(state.tasks))
    if limit is not None and len(worked_on(state, user_id)) >= limit:
        return "limit_reached"
    return None


# Ordering


def order_key(settings: ProjectSettings, task: TaskView) -> tuple[int | float, ...]:
    """Task Ordering Method.

    By Task ID: "ascending order by ID" (inner id, the project's own numbering). Random: the
    project's fixed random order (`random_key`), the same for everyone so overlapping tasks fill
    up. Uncertainty: "the least confident, or most uncertain, prediction scores" first; tasks
    without a prediction after them.
    """
    ordering = settings.annotation.ordering
    if ordering == "random":
        return (task.random_key, task.inner_id)
    if ordering == "uncertainty":
        score = task.prediction_score
        return (score is None, 0.0 if score is None else score, task.inner_id)
    return (task.inner_id,)


def onboarding_active(settings: ProjectSettings, state: StreamState, user_id: int) -> bool:
    """Onboarding evaluation: annotators "are first presented with tasks that have a ground truth
    annotation" until they have been presented `onboarding_tasks` of them (ambiguity 8)."""
    evaluation = settings.quality.evaluation
    if not evaluation.enabled or evaluation.onboarding_tasks == 0:
        return False
    done = sum(1 for task_id in worked_on(state, user_id) if state.tasks[task_id].has_ground_truth)
    return done < evaluation.onboarding_tasks


def tier(settings: ProjectSettings, task: TaskView, onboarding: bool) -> tuple[int, Reason]:
    """Which options put a task ahead of the ordering method.

    Ground truth first: onboarding, or "Show tasks with ground truth labels first" ("Prioritize
    tasks that already have a ground truth label"). Then "Show tasks with overlap first": "If your
    overlap enforcement is less than 100% ... the tasks that do require multiple annotations are
    shown first"; it "supersedes" the ordering method and has no effect at 100%.
    """
    quality = settings.quality
    if task.has_ground_truth and (onboarding or quality.show_ground_truth_first):
        return (0, "ground_truth")
    if quality.show_overlap_first and quality.coverage_percent < 100 and task.overlap > 1:
        return (1, "overlap_first")
    return (2, "order")


# The stream


def queue(
    settings: ProjectSettings, state: StreamState, user_id: int, now: datetime
) -> list[tuple[int, Reason]]:
    """Every task the user may be served now, in serving order, with the reason for its place.

    Automatic: "any task not yet full". Manual: "Annotators will be able to start on tasks once
    you've assigned them", only those, overlap not enforced. Never a task the user submitted;
    their skipped tasks come back only under requeue to me, after all their other tasks.
    """
    if blocked_reason(settings, state, user_id) is not None:
        return []
    manual = is_manual(settings)
    done = submitted_by(state, user_id)
    skips = last_skips(state, user_id)
    reserved = reserved_by(state, user_id, now)
    fresh: list[TaskView] = []
    requeued: list[TaskView] = []
    for task in state.tasks.values():
        if task.id in done:
            continue
        if manual and (user_id, task.id) not in state.assignments:
            continue
        if not manual and not has_room(settings, state, task, user_id, now):
            continue
        if not manual and task.id not in reserved and is_full(settings, state, task):
            continue
        if task.id not in skips:
            fresh.append(task)
        elif skipped_task_returns(settings):
            requeued.append(task)
    requeued.sort(key=lambda task: (skips[task.id], task.inner_id, task.id))
    served_again: list[tuple[int, Reason]] = [(task.id, "requeued_skip") for task in requeued]
    if manual:
        fresh.sort(key=lambda task: (task.inner_id, task.id))
        return [(task.id, "assigned") for task in fresh] + served_again
    onboarding = onboarding_active(settings, state, user_id)
    ranked = sorted(
        ((tier(settings, task, onboarding), order_key(settings, task), task.id) for task in fresh),
    )
    return [(task_id, reason) for (_, reason), _, task_id in ranked] + served_again


def eligible_tasks(settings: ProjectSettings, state: StreamState, user_id: int, now: datetime) -> list[int]:
    """Every task the user may be served right now, in serving order.

    `next_task` returns the first, except that a task the user is in the middle of comes first.
    """
    return [task_id for task_id, _ in queue(settings, state, user_id, now)]


def resumable(
    settings: ProjectSettings, state: StreamState, user_id: int, now: datetime, candidates: Iterable[int]
) -> tuple[int, Reason] | None:
    """The task the user is in the middle of, if any is still theirs to serve.

    A live own reservation wins: "the tasks an annotator starts working on are temporarily reserved
    by them" (not under manual assignment: "it does not apply"). Then a task with their draft
    (ambiguity 5). A skipped task is never resumed: it waits at the end (ambiguity 2).
    """
    skipped = set(last_skips(state, user_id))
    ordered = [task_id for task_id in candidates if task_id not in skipped]
    if not is_manual(settings):
        reserved = reserved_by(state, user_id, now)
        for task_id in ordered:
            if task_id in reserved:
                return (task_id, "reservation")
    for task_id in ordered:
        if (user_id, task_id) in state.drafts:
            return (task_id, "draft")
    return None


def next_task(settings: ProjectSettings, state: StreamState, user_id: int, now: datetime) -> NextDecision:
    """What `next` returns: the task in progress, else the head of the queue, else why nothing."""
    blocked = blocked_reason(settings, state, user_id)
    if blocked is not None:
        return NextDecision(None, blocked)
    entries = queue(settings, state, user_id, now)
    if not entries:
        return NextDecision(None, "no_more_tasks")
    task_id, reason = resumable(settings, state, user_id, now, (t for t, _ in entries)) or entries[0]
    return NextDecision(task_id, reason)
