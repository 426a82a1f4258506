"""The label stream's distribution policy: which task an annotator gets next.

A pure reference model (no I/O). The database service implements the same rules in SQL and a
stateful property test compares the two, so each rule is one small function quoting the spec
(docs "Project settings": Annotation and Quality). `state` holds the dataclasses, the slot rules
and the invariant; `stream` the serving order (`eligible_tasks`, `next_task`); `actions` what
next, submit, skip and pause do to the state; `quotas` the limit and the overlap cohort;
`progress` the counters. Vocabulary:

- *work*: an annotation; a skip is an annotation with `was_cancelled`.
- *slot*: one of the `overlap` places of a task. A user holds one with a live reservation, with an
  annotation that counts toward overlap, or with a manual assignment they have not worked on yet.
  A user holds at most one slot per task, whatever they did ("only annotations created by distinct
  users count towards the overlap").

Ambiguities in the spec and the choice made (each repeated where it applies):

1. Ground-truth annotations never fill a slot (reliability T05, LS `has_lock`); otherwise a
   manager's ground truth would keep annotators off the very tasks used to evaluate them.
2. Requeue to me keeps the reservation on skip (the spec lists only the two other modes as
   releasing it), but an annotator holds one reservation per project (T01): taking the next task
   moves it. The skipped task is not resumed from that reservation; it waits at the end.
3. Requeue to me under manual assignment: "continue to see the skipped task until it is
   completed" is read as until *they* submit it (their assignment is complete).
4. Ignore skipped: a skip completes the skipper's share, so with overlap 2 two skips finish the
   task ("shown to other annotators until the minimum annotations are reached"; LS `is_labeled`).
5. Drafts: the service keeps a drafting user's reservation alive. In the model a draft only
   gives resume priority and holds no slot; once others filled the task it is not served again
   and the draft is kept (T04).
6. Manual assignments under automatic assignment (left from a mode switch) hold a slot for the
   assignee until they work on the task, so the automatic stream fills only the other slots.
7. Manual assignment ignores overlap, reservations, ordering and the "first" options: the
   spec marks them automatic-only; assigned tasks come by task id.
8. Onboarding counts ground-truth tasks the user submitted *or skipped* ("presented first").
   `continuous_tasks` has no stream rule in the spec: remaining ground-truth tasks simply follow
   the ordering method ("presented periodically ... depending on your task ordering method").
9. The percent limit and the coverage count both round half up (LS `_rearrange_overlap_cohort`).
10. Limits and pauses apply under both assignment modes; role exemptions are the service's.
11. `overlap` below 1 is treated as 1, as `is_labeled` does.
12. When several "first" options apply: ground truth (onboarding or "ground truth first"), then
    overlap first, then the ordering method (LS tries its ground-truth queue before the others).
    A task in progress (live reservation, then draft) still comes before all of them.
13. Requeued skips come back in the order they were last skipped ("moved to the bottom").
14. Label Studio's "breadth first" preference for tasks others have started is not in the spec
    and is not modelled; the random order is one fixed order per project, so overlapping tasks
    still fill up rather than many being started at once.
15. A pause is reported before the limit ("paused: <why>", then "limit_reached").
"""

from app.domain.label_stream.actions import (
    can_skip,
    check_submit,
    pause,
    save_draft,
    serve,
    skip,
    submit,
    unpause,
)
from app.domain.label_stream.progress import progress
from app.domain.label_stream.quotas import (
    annotator_limit,
    failed_evaluation,
    may_add_annotator,
    needs_another_annotator,
    overlap_targets,
)
from app.domain.label_stream.state import (
    NextDecision,
    Reason,
    Reservation,
    StreamState,
    TaskView,
    Work,
    check_invariant,
    has_room,
    slot_holders,
)
from app.domain.label_stream.stream import eligible_tasks, next_task

__all__ = [
    "NextDecision",
    "Reason",
    "Reservation",
    "StreamState",
    "TaskView",
    "Work",
    "annotator_limit",
    "can_skip",
    "check_invariant",
    "check_submit",
    "eligible_tasks",
    "failed_evaluation",
    "has_room",
    "may_add_annotator",
    "needs_another_annotator",
    "next_task",
    "overlap_targets",
    "pause",
    "progress",
    "save_draft",
    "serve",
    "skip",
    "slot_holders",
    "submit",
    "unpause",
]
