"""Project completion and one user's queue, as each skip mode defines them."""

from datetime import datetime

from app.domain.label_stream.quotas import annotator_limit
from app.domain.label_stream.state import StreamState, TaskView, worked_on
from app.domain.label_stream.stream import eligible_tasks
from app.domain.project_settings import ProjectSettings
from app.domain.task_state import is_labeled


def is_completed(settings: ProjectSettings, state: StreamState, task: TaskView) -> bool:
    """Project progress: with both requeue modes "Skipped tasks are not marked as completed"; with
    Ignore skipped they "do not adversely affect the Overall Project Progress"."""
    work = [w for w in state.work if w.task_id == task.id and not w.ground_truth]
    annotators = {w.user_id for w in work if w.kind == "submit"}
    skippers_only = {w.user_id for w in work} - annotators
    return is_labeled(
        annotators=len(annotators),
        skippers_only=len(skippers_only),
        overlap=task.overlap,
        skip_queue=settings.effective_skip_queue(),
    )


def progress(settings: ProjectSettings, state: StreamState, user_id: int, now: datetime) -> dict[str, int]:
    """Project completion, and one user's queue: done (tasks they submitted or skipped for good) and
    left (what they may still be served, capped by their limit; nothing while paused)."""
    left = eligible_tasks(settings, state, user_id, now)
    worked = worked_on(state, user_id)
    limit = annotator_limit(settings, len(state.tasks))
    queue_left = len(left) if limit is None else max(0, min(len(left), limit - len(worked)))
    queue_done = len(worked - set(left))
    return {
        "completed": sum(1 for task in state.tasks.values() if is_completed(settings, state, task)),
        "total": len(state.tasks),
        "queue_total": queue_done + queue_left,
        "queue_done": queue_done,
        "queue_left": queue_left,
    }
