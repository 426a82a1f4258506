"""How many: the tasks-per-annotator limit and the overlap cohort, both rounded half up."""

import heapq
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from app.domain.project_settings import ProjectSettings
from app.domain.task_state import random_key


def round_half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def share_of(n: int, percent: float) -> int:
    """`percent` of `n` tasks, rounded half up (Decimal, so 50% of 3 is exactly 1.5 -> 2)."""
    return round_half_up(Decimal(n) * Decimal(str(percent)) / 100)


def annotator_limit(settings: ProjectSettings, n_project_tasks: int) -> int | None:
    """Tasks per annotator: "Annotators will be paused when they reach whichever limit is smaller".

    The percent limit follows the project size, so adding tasks unpauses (ambiguity 9: rounding).
    """
    quality = settings.quality
    limits = [quality.annotation_limit_count]
    if quality.annotation_limit_percent is not None:
        limits.append(share_of(n_project_tasks, quality.annotation_limit_percent))
    present = [limit for limit in limits if limit is not None]
    return min(present) if present else None


def overlap_targets(
    inner_ids: Sequence[int], annotations_per_task: int, coverage_percent: float, seed: int
) -> dict[int, int]:
    """Each task's overlap: `annotations_per_task` for exactly round_half_up(n * coverage / 100) tasks,
    1 for the rest ("the percentage of the project tasks for which the overlap is enforced").

    Rule: walk the tasks by inner id; whenever the quota of the first m tasks grows, the waiting
    task among them with the lowest `random_key(seed, inner_id)` joins the cohort. So the cohort of
    the first n tasks depends on them alone: appending tasks never removes a task from it (a new
    quota unit may go to an older waiting task with a lower key). Changing the percentage derives
    the cohort afresh and a task may leave it; its annotations are kept and it is simply covered
    more than asked. (An exact count that is stable under both appends and % changes would have
    to be "the first k tasks by id", which is no sample; ranking all tasks by key would instead drop
    cohort tasks whenever a newcomer ranks lower without the quota growing.)
    """
    ordered = sorted(inner_ids)
    if annotations_per_task <= 1:
        return dict.fromkeys(ordered, 1)
    waiting: list[tuple[int, int]] = []
    cohort: set[int] = set()
    for m, inner_id in enumerate(ordered, start=1):
        heapq.heappush(waiting, (random_key(seed, inner_id), inner_id))
        while len(cohort) < share_of(m, coverage_percent):
            cohort.add(heapq.heappop(waiting)[1])
    return {inner_id: annotations_per_task if inner_id in cohort else 1 for inner_id in ordered}


def failed_evaluation(settings: ProjectSettings, score: float | None, tasks: int) -> str | None:
    """ "Pause annotator on failed evaluation": why the user is paused, or None. Their agreement with
    ground truth (0-1) is below the score required, once they completed the "number of tasks for
    evaluation" ground-truth tasks.

    Derived from the settings each time, so relaxing them unpauses at once, and a manager cannot
    unpause by hand ("you will need to relax the evaluation settings"). Only the ground-truth
    metric scores members; acceptance and rejection metrics need reviews, which score nobody yet.
    """
    evaluation = settings.quality.evaluation
    failed = (
        evaluation.enabled
        and evaluation.metric == "gt_agreement"
        and evaluation.pause_on_fail
        and score is not None
        and tasks >= evaluation.minimum_tasks
        and round(score * 100, 9) < evaluation.minimum_score  # 0.29 * 100 is 28.999999999999996
    )
    if not failed:
        return None
    return (
        f"your agreement with ground truth ({score or 0:.0%} over {tasks} tasks) is below "
        f"the {evaluation.minimum_score:g}% needed to pass evaluation"
    )


def may_add_annotator(settings: ProjectSettings, extra_overlap: int) -> bool:
    """The low agreement strategy is on and fewer than "maximum additional annotators" were added:
    whether a task's agreement is worth computing at all."""
    strategy = settings.quality.agreement
    return (
        strategy.assign_additional_on_low_agreement
        and settings.annotation.assignment == "auto"
        and extra_overlap < strategy.max_additional_annotators
    )


def needs_another_annotator(settings: ProjectSettings, agreement: float | None, extra_overlap: int) -> bool:
    """The low agreement strategy: a task whose overlap is met but whose agreement is below the
    threshold gets one more annotator, "one at a time", up to "maximum additional annotators"."""
    return (
        may_add_annotator(settings, extra_overlap)
        and agreement is not None
        and agreement < settings.quality.agreement.threshold
    )
