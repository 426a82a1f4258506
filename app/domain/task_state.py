"""When a task counts as labeled, and the stable random order key of a task."""

from enum import StrEnum

MASK63 = (1 << 63) - 1


class SkipQueue(StrEnum):
    REQUEUE_TO_ME = "requeue_to_me"
    REQUEUE_TO_OTHERS = "requeue_to_others"
    IGNORE = "ignore"


def is_labeled(*, annotators: int, skippers_only: int, overlap: int, skip_queue: str) -> bool:
    """A task is labeled once enough distinct users finished it.

    `annotators` counts distinct users with a submitted, non-cancelled annotation;
    `skippers_only` the distinct users whose only annotations are skips. Under
    "ignore skipped" a skip is a valid completion, so skippers count too.
    """
    done = annotators + (skippers_only if skip_queue == SkipQueue.IGNORE else 0)
    return done >= max(overlap, 1)


def random_key(seed: int, inner_id: int) -> int:
    """A uniform, stable pseudo-random key per task (splitmix64 of seed and position).

    Ordering by it gives each project its own fixed random order, served from an index
    instead of sorting the table on every call.
    """
    z = (seed + inner_id * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & MASK63
