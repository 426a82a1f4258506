"""The label stream's distribution policy, one test per rule of the spec, plus properties."""

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.label_stream import (
    NextDecision,
    Reservation,
    StreamState,
    TaskView,
    Work,
    annotator_limit,
    can_skip,
    check_invariant,
    eligible_tasks,
    failed_evaluation,
    needs_another_annotator,
    next_task,
    overlap_targets,
    pause,
    progress,
    serve,
    skip,
    submit,
)
from app.domain.project_settings import ProjectSettings
from app.domain.task_state import random_key

pytestmark = pytest.mark.core

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
A, B, C = 1, 2, 3
SEED = 7


def project(**groups: dict[str, Any]) -> ProjectSettings:
    return ProjectSettings.model_validate(groups)


def make_tasks(n: int, overlap: int = 1, **fields: Any) -> dict[int, TaskView]:
    return {
        i: TaskView(id=i, inner_id=i, overlap=overlap, random_key=random_key(SEED, i), **fields)
        for i in range(1, n + 1)
    }


def with_task(tasks: dict[int, TaskView], task_id: int, **changes: Any) -> dict[int, TaskView]:
    old = tasks[task_id]
    return {**tasks, task_id: TaskView(**{**old.__dict__, **changes})}


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def served(config: ProjectSettings, state: StreamState, user: int, now: datetime = NOW) -> int | None:
    return next_task(config, state, user, now).task_id


def requeue(mode: str, assignment: str = "auto") -> ProjectSettings:
    return project(annotation={"skip_queue": mode, "assignment": assignment})


# Task Assignment


def test_automatic_assignment_serves_any_task_not_yet_full():
    config = project()
    state = StreamState(make_tasks(3), work=(Work(B, 1, "submit", NOW),))
    assert next_task(config, state, A, NOW) == NextDecision(2, "order")
    assert eligible_tasks(config, state, A, NOW) == [2, 3]


def test_manual_assignment_serves_only_tasks_assigned_to_the_annotator_and_reserves_nothing():
    config = project(annotation={"assignment": "manual"})
    state = StreamState(make_tasks(4), assignments=frozenset({(A, 3), (A, 2), (B, 2), (C, 2)}))
    assert eligible_tasks(config, state, A, NOW) == [2, 3]
    after, decision = serve(config, state, A, NOW)
    assert decision == NextDecision(2, "assigned")
    assert after.reservations == ()
    # overlap is not enforced: the manager decides it by assigning
    state = StreamState(state.tasks, work=(Work(B, 2, "submit", NOW),), assignments=state.assignments)
    assert served(config, state, C) == 2
    assert served(config, state, 4) is None


def test_manual_assignment_ignores_the_ordering_method_and_the_first_options():
    config = project(
        annotation={"assignment": "manual", "ordering": "random"},
        quality={"show_ground_truth_first": True},
    )
    tasks = with_task(make_tasks(3), 3, has_ground_truth=True)
    state = StreamState(tasks, assignments=frozenset({(A, 1), (A, 2), (A, 3)}))
    assert eligible_tasks(config, state, A, NOW) == [1, 2, 3]


# Task Ordering Method


def test_by_task_id_tasks_are_shown_in_ascending_order_by_id():
    tasks = {t.id: t for t in (TaskView(10, 3, 1, 0), TaskView(11, 1, 1, 0), TaskView(12, 2, 1, 0))}
    assert eligible_tasks(project(), StreamState(tasks), A, NOW) == [11, 12, 10]


def test_random_tasks_are_shown_in_the_projects_fixed_random_order():
    tasks = make_tasks(20)
    order = eligible_tasks(project(annotation={"ordering": "random"}), StreamState(tasks), A, NOW)
    assert order == sorted(tasks, key=lambda i: tasks[i].random_key)
    assert order != sorted(tasks)
    assert eligible_tasks(project(annotation={"ordering": "random"}), StreamState(tasks), B, NOW) == order


def test_uncertainty_shows_the_least_confident_prediction_first_and_tasks_without_predictions_last():
    tasks = make_tasks(5)
    for task_id, score in {1: 0.9, 2: None, 3: 0.2, 4: 0.5, 5: 0.2}.items():
        tasks = with_task(tasks, task_id, prediction_score=score)
    config = project(annotation={"ordering": "uncertainty"})
    assert eligible_tasks(config, StreamState(tasks), A, NOW) == [3, 5, 4, 1, 2]


# Task Reservation


def test_with_overlap_2_two_annotators_can_reserve_a_task_simultaneously_and_a_third_cannot():
    config = project(quality={"annotations_per_task": 2})
    state = StreamState(make_tasks(2, overlap=2))
    state, first = serve(config, state, A, NOW)
    state, second = serve(config, state, B, NOW)
    state, third = serve(config, state, C, NOW)
    assert (first.task_id, second.task_id, third.task_id) == (1, 1, 2)


def test_an_expired_reservation_counts_for_nothing():
    config = project(annotation={"reservation_minutes": 10})
    state, decision = serve(config, StreamState(make_tasks(1)), A, NOW)
    assert decision.task_id == 1
    assert served(config, state, B, at(9)) is None
    assert served(config, state, B, at(10)) == 1


def test_a_live_own_reservation_is_resumed_and_next_is_idempotent():
    config = project(annotation={"reservation_minutes": 10})
    state = StreamState(make_tasks(3), reservations=(Reservation(A, 3, at(5)),))
    assert next_task(config, state, A, NOW) == NextDecision(3, "reservation")
    for minute in range(5):
        state, decision = serve(config, state, A, at(minute))
        assert decision == NextDecision(3, "reservation")
    assert state.reservations == (Reservation(A, 3, at(4 + 10)),)


def test_an_annotator_holds_one_reservation_taking_another_task_moves_it():
    config = project(annotation={"skip_queue": "requeue_to_me"})
    state, _ = serve(config, StreamState(make_tasks(2)), A, NOW)
    state = skip(config, state, A, 1, None, NOW)
    assert state.reservations == (Reservation(A, 1, at(1440)),)  # a skip keeps it under requeue to me
    state, decision = serve(config, state, A, NOW)
    assert decision == NextDecision(2, "order")
    assert [r.task_id for r in state.reservations] == [2]


def test_a_late_submit_after_the_reservation_expired_and_the_slot_was_taken_is_a_conflict():
    config = project(annotation={"reservation_minutes": 10})
    state, _ = serve(config, StreamState(make_tasks(1)), A, NOW)
    state, decision = serve(config, state, B, at(11))
    assert decision.task_id == 1
    with pytest.raises(Conflict, match="reservation expired"):
        submit(config, state, A, 1, at(12))
    state = submit(config, state, B, 1, at(12))
    assert len(state.work) == 1


def test_a_late_submit_with_the_slot_still_free_is_accepted():
    config = project(annotation={"reservation_minutes": 10})
    state, _ = serve(config, StreamState(make_tasks(1)), A, NOW)
    assert submit(config, state, A, 1, at(30)).work == (Work(A, 1, "submit", at(30)),)


def test_submitting_ends_the_reservation_and_consumes_the_draft():
    config = project()
    state, _ = serve(config, StreamState(make_tasks(2), drafts=frozenset({(A, 1)})), A, NOW)
    state = submit(config, state, A, 1, NOW)
    assert (state.reservations, state.drafts) == ((), frozenset())


@pytest.mark.parametrize(
    ("mode", "kept"), [("requeue_to_me", True), ("requeue_to_others", False), ("ignore", False)]
)
def test_skipping_ends_the_reservation_only_when_requeued_to_others_or_ignored(mode, kept):
    config = requeue(mode)
    state, _ = serve(config, StreamState(make_tasks(1)), A, NOW)
    assert bool(skip(config, state, A, 1, None, NOW).reservations) is kept


# Task Skipping


def test_allow_skipping_tasks_off_refuses_skips():
    with pytest.raises(Invalid, match="turned off"):
        can_skip(project(annotation={"allow_skip": False}), make_tasks(1)[1], "why")


def test_individual_unskippable_tasks_cannot_be_skipped():
    with pytest.raises(Invalid, match="cannot be skipped"):
        can_skip(project(), make_tasks(1, allow_skip=False)[1], None)


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_require_comment_to_skip_refuses_a_missing_or_blank_comment(comment):
    config = project(annotation={"require_comment_to_skip": True})
    with pytest.raises(Invalid) as error:
        can_skip(config, make_tasks(1)[1], comment)
    assert error.value.field == "comment"
    can_skip(config, make_tasks(1)[1], "blurry image")


# Skip Queue: requeue skipped tasks back to the annotator


def test_requeue_skipped_tasks_back_to_the_annotator_shows_it_at_the_end_of_their_queue():
    config = requeue("requeue_to_me")
    state = skip(config, StreamState(make_tasks(3)), A, 1, None, NOW)
    assert eligible_tasks(config, state, A, NOW) == [2, 3, 1]
    state = submit(config, submit(config, state, A, 2, NOW), A, 3, NOW)
    assert next_task(config, state, A, NOW) == NextDecision(1, "requeued_skip")
    state = submit(config, state, A, 1, at(1))
    assert next_task(config, state, A, at(1)) == NextDecision(None, "no_more_tasks")


def test_requeue_back_to_the_annotator_several_skips_return_in_the_order_they_were_skipped():
    config = requeue("requeue_to_me")
    state = skip(config, StreamState(make_tasks(4)), A, 3, None, NOW)
    state = skip(config, state, A, 1, None, at(1))
    state = skip(config, state, A, 3, None, at(2))  # skipped again: to the bottom again
    assert eligible_tasks(config, state, A, at(3)) == [2, 4, 1, 3]


def test_requeue_back_to_the_annotator_on_reentry_they_see_it_only_if_others_have_not_completed_it():
    config = requeue("requeue_to_me")
    state = skip(config, StreamState(make_tasks(2)), A, 1, None, NOW)
    assert eligible_tasks(config, state, A, at(60)) == [2, 1]  # still incomplete: can label it
    others_done = submit(config, state, B, 1, at(61))
    assert eligible_tasks(config, others_done, A, at(120)) == [2]
    # and others may take it meanwhile: it is not completed by a skip
    assert served(config, state, B, at(60)) == 1


def test_requeue_back_to_the_annotator_with_manual_assignment_they_see_it_until_they_complete_it():
    config = requeue("requeue_to_me", "manual")
    state = StreamState(make_tasks(2), assignments=frozenset({(A, 1), (A, 2), (B, 1)}))
    state = skip(config, state, A, 1, None, NOW)
    state = submit(config, state, B, 1, NOW)  # another assignee completing it does not remove it
    assert eligible_tasks(config, state, A, NOW) == [2, 1]
    state = skip(config, state, A, 1, None, at(1))
    assert eligible_tasks(config, state, A, at(1)) == [2, 1]
    state = submit(config, state, A, 1, at(2))
    assert eligible_tasks(config, state, A, at(2)) == [2]


def test_skipped_tasks_are_never_resumed_first_from_a_kept_reservation_or_a_draft():
    config = requeue("requeue_to_me")
    state, _ = serve(config, StreamState(make_tasks(2), drafts=frozenset({(A, 1)})), A, NOW)
    state = skip(config, state, A, 1, None, NOW)
    assert next_task(config, state, A, NOW) == NextDecision(2, "order")


# Skip Queue: requeue skipped tasks to others


def test_requeue_skipped_tasks_to_others_the_annotator_cannot_return_to_it_but_others_get_it():
    config = requeue("requeue_to_others")
    state = skip(config, StreamState(make_tasks(2)), A, 1, None, NOW)
    assert eligible_tasks(config, state, A, NOW) == [2]
    state = submit(config, state, A, 2, NOW)
    assert next_task(config, state, A, NOW) == NextDecision(None, "no_more_tasks")
    assert served(config, state, B) == 1


def test_requeue_to_others_if_all_annotators_skip_the_task_it_remains_unfinished():
    config = requeue("requeue_to_others")
    state = StreamState(make_tasks(1))
    for user in (A, B, C):
        state = skip(config, state, user, 1, None, NOW)
    assert progress(config, state, A, NOW)["completed"] == 0
    assert [served(config, state, user) for user in (A, B, C)] == [None, None, None]
    assert served(config, state, 4) == 1


def test_requeue_to_others_under_manual_assignment_behaves_the_same_as_ignore_skipped():
    config = requeue("requeue_to_others", "manual")
    state = StreamState(make_tasks(1), assignments=frozenset({(A, 1), (B, 1)}))
    state = skip(config, state, A, 1, None, NOW)
    assert (served(config, state, A), served(config, state, B)) == (None, 1)
    assert progress(config, state, A, NOW)["completed"] == 1  # the skip completed overlap 1


# Skip Queue: ignore skipped


def test_ignore_skipped_with_overlap_1_the_task_is_completed_and_not_seen_again():
    config = requeue("ignore")
    state = skip(config, StreamState(make_tasks(2)), A, 1, None, NOW)
    assert [served(config, state, user) for user in (A, B)] == [2, 2]
    assert progress(config, state, A, NOW)["completed"] == 1


def test_ignore_skipped_with_overlap_above_1_the_task_is_shown_to_others_until_the_minimum_is_reached():
    config = project(annotation={"skip_queue": "ignore"}, quality={"annotations_per_task": 2})
    state = skip(config, StreamState(make_tasks(1, overlap=2)), A, 1, None, NOW)
    assert (served(config, state, A), served(config, state, B)) == (None, 1)
    state = submit(config, state, B, 1, NOW)
    assert served(config, state, C) is None


def test_ignore_skipped_with_manual_assignment_other_assignees_still_see_it():
    config = requeue("ignore", "manual")
    state = StreamState(make_tasks(1), assignments=frozenset({(A, 1), (B, 1)}))
    state = skip(config, state, A, 1, None, NOW)
    assert (served(config, state, A), served(config, state, B)) == (None, 1)


@pytest.mark.parametrize(
    ("mode", "completed"), [("requeue_to_me", 0), ("requeue_to_others", 0), ("ignore", 1)]
)
def test_skipped_tasks_lower_the_project_progress_except_with_ignore_skipped(mode, completed):
    config = requeue(mode)
    state = skip(config, StreamState(make_tasks(1)), A, 1, None, NOW)
    assert (progress(config, state, A, NOW)["completed"], progress(config, state, A, NOW)["total"]) == (
        completed,
        1,
    )


@pytest.mark.parametrize(
    ("mode", "b_served"), [("requeue_to_me", 1), ("requeue_to_others", 1), ("ignore", None)]
)
def test_a_skip_fills_a_slot_only_with_ignore_skipped(mode, b_served):
    config = requeue(mode)
    state = skip(config, StreamState(make_tasks(1)), A, 1, None, NOW)
    assert served(config, state, B) == b_served


# Overlap of Annotations


def test_annotations_per_task_only_annotations_by_distinct_users_count():
    config = project(quality={"annotations_per_task": 2})
    state = StreamState(
        make_tasks(1, overlap=2), work=(Work(A, 1, "submit", NOW), Work(A, 1, "submit", at(1)))
    )
    assert served(config, state, B) == 1
    assert check_invariant(state, NOW) == []
    assert progress(config, state, B, NOW)["completed"] == 0


def test_an_annotator_never_gets_a_task_they_already_submitted():
    config = project(quality={"annotations_per_task": 3})
    state = StreamState(make_tasks(1, overlap=3), work=(Work(A, 1, "submit", NOW),))
    assert served(config, state, A) is None


def test_ground_truth_annotations_do_not_fill_a_slot():
    config = project()
    state = StreamState(
        make_tasks(1, has_ground_truth=True), work=(Work(C, 1, "submit", NOW, ground_truth=True),)
    )
    assert served(config, state, A) == 1
    assert check_invariant(state, NOW) == []
    assert progress(config, state, A, NOW)["completed"] == 0


def test_a_manual_assignment_holds_a_slot_so_the_automatic_stream_never_serves_it_to_others():
    config = project()
    state = StreamState(make_tasks(2), assignments=frozenset({(A, 1)}))
    assert eligible_tasks(config, state, B, NOW) == [2]
    assert eligible_tasks(config, state, A, NOW) == [1, 2]
    state = skip(config, state, A, 1, None, NOW)  # worked on: the slot is free again
    assert eligible_tasks(config, state, B, NOW) == [1, 2]


def test_lowering_overlap_keeps_existing_reservations_but_grants_no_new_one():
    state = StreamState(
        make_tasks(1, overlap=2), reservations=(Reservation(A, 1, at(60)), Reservation(B, 1, at(60)))
    )
    lowered = StreamState(make_tasks(1, overlap=1), reservations=state.reservations)
    config = project()
    assert (served(config, lowered, A), served(config, lowered, B), served(config, lowered, C)) == (
        1,
        1,
        None,
    )
    assert check_invariant(lowered, NOW) == ["task 1: 2 reservations and annotators > overlap 1"]


def test_raising_overlap_reopens_labeled_tasks():
    config = project(quality={"annotations_per_task": 3})
    state = StreamState(make_tasks(1, overlap=1), work=(Work(A, 1, "submit", NOW),))
    assert served(config, state, B) is None
    raised = StreamState(make_tasks(1, overlap=3), work=state.work)
    assert (served(config, raised, B), served(config, raised, A)) == (1, None)


def test_check_invariant_counts_live_reservations_and_distinct_submitters():
    work = (Work(A, 1, "submit", NOW), Work(A, 1, "submit", NOW), Work(B, 1, "skip", NOW))
    state = StreamState(make_tasks(1, overlap=2), work=work, reservations=(Reservation(C, 1, at(1)),))
    assert check_invariant(state, NOW) == []
    crowded = StreamState(
        state.tasks, work=work, reservations=(Reservation(C, 1, at(1)), Reservation(4, 1, at(2)))
    )
    assert check_invariant(crowded, NOW) == ["task 1: 3 reservations and annotators > overlap 2"]
    assert check_invariant(crowded, at(1)) == []


def test_check_invariant_flags_an_annotator_holding_two_live_reservations():
    state = StreamState(make_tasks(2), reservations=(Reservation(A, 1, at(5)), Reservation(A, 2, at(1))))
    assert check_invariant(state, NOW) == ["user 1: 2 live reservations"]
    assert check_invariant(state, at(1)) == []


# Annotations per task coverage


@pytest.mark.parametrize(
    ("n", "percent", "expected"),
    [(10, 50, 5), (3, 50, 2), (5, 10, 1), (4, 10, 0), (7, 100, 7), (9, 0, 0), (3, 33.5, 1)],
)
def test_annotations_per_task_coverage_enforces_overlap_on_the_rounded_share_of_tasks(n, percent, expected):
    targets = overlap_targets(list(range(1, n + 1)), 3, percent, SEED)
    assert sorted(targets) == list(range(1, n + 1))
    assert sum(1 for overlap in targets.values() if overlap == 3) == expected
    assert set(targets.values()) <= {1, 3}


def test_with_one_annotation_per_task_every_task_needs_one_annotator():
    assert overlap_targets([1, 2, 3], 1, 100, SEED) == {1: 1, 2: 1, 3: 1}


def test_coverage_is_a_sample_not_the_first_tasks():
    targets = overlap_targets(list(range(1, 101)), 2, 30, SEED)
    chosen = [inner_id for inner_id, overlap in targets.items() if overlap == 2]
    assert len(chosen) == 30
    assert chosen != list(range(1, 31))
    assert max(chosen) > 60


@given(
    n=st.integers(0, 60),
    more=st.integers(0, 40),
    percent=st.integers(0, 100) | st.floats(0, 100),
    per_task=st.integers(2, 5),
    seed=st.integers(0, 2**32),
)
def test_overlap_targets_pick_exactly_the_right_count_and_appending_tasks_removes_none_from_the_cohort(
    n, more, percent, per_task, seed
):
    before = overlap_targets(list(range(1, n + 1)), per_task, percent, seed)
    after = overlap_targets(list(range(1, n + more + 1)), per_task, percent, seed)
    for targets in (before, after):
        exact_share = Decimal(len(targets)) * Decimal(str(percent)) / 100
        assert sum(1 for overlap in targets.values() if overlap == per_task) == math.floor(
            exact_share + Decimal("0.5")
        )
    assert {i for i, o in before.items() if o == per_task} <= {i for i, o in after.items() if o == per_task}


# Show tasks with overlap first / ground truth first


def test_show_tasks_with_overlap_first_puts_tasks_needing_several_annotators_first_superseding_the_ordering():
    config = project(quality={"annotations_per_task": 2, "coverage_percent": 50, "show_overlap_first": True})
    tasks = with_task(with_task(make_tasks(4), 4, overlap=2), 3, overlap=2)
    assert eligible_tasks(config, StreamState(tasks), A, NOW) == [3, 4, 1, 2]
    assert next_task(config, StreamState(tasks), A, NOW) == NextDecision(3, "overlap_first")


def test_show_tasks_with_overlap_first_has_no_effect_when_coverage_is_100_percent():
    config = project(quality={"annotations_per_task": 2, "show_overlap_first": True})
    tasks = with_task(make_tasks(3), 3, overlap=2)
    assert eligible_tasks(config, StreamState(tasks), A, NOW) == [1, 2, 3]


def test_show_tasks_with_ground_truth_labels_first():
    config = project(annotation={"ordering": "random"}, quality={"show_ground_truth_first": True})
    tasks = with_task(with_task(make_tasks(6), 5, has_ground_truth=True), 2, has_ground_truth=True)
    order = eligible_tasks(config, StreamState(tasks), A, NOW)
    assert set(order[:2]) == {2, 5}
    assert order[2:] == sorted({1, 3, 4, 6}, key=lambda i: tasks[i].random_key)
    assert next_task(config, StreamState(tasks), A, NOW).reason == "ground_truth"


# Tasks Per Annotator Limit


@pytest.mark.parametrize(
    ("count", "percent", "n_tasks", "expected"),
    [
        (None, None, 10, None),
        (3, None, 10, 3),
        (None, 25, 10, 3),
        (5, 20, 10, 2),
        (1, 50, 10, 1),
        (None, 10, 4, 0),
    ],
)
def test_annotators_are_paused_at_whichever_limit_is_smaller(count, percent, n_tasks, expected):
    config = project(quality={"annotation_limit_count": count, "annotation_limit_percent": percent})
    assert annotator_limit(config, n_tasks) == expected


def test_an_annotator_at_the_tasks_per_annotator_limit_gets_nothing_skips_included():
    config = project(quality={"annotation_limit_count": 2})
    state = StreamState(make_tasks(5), work=(Work(A, 1, "submit", NOW), Work(A, 2, "skip", NOW)))
    assert next_task(config, state, A, NOW) == NextDecision(None, "limit_reached")
    assert eligible_tasks(config, state, A, NOW) == []
    assert served(config, state, B) == 2  # A's skip left task 2 to others


def test_adding_tasks_gives_percent_limited_annotators_access_again():
    config = project(quality={"annotation_limit_percent": 50})
    state = StreamState(make_tasks(4), work=(Work(A, 1, "submit", NOW), Work(A, 2, "submit", NOW)))
    assert served(config, state, A) is None
    assert served(config, StreamState(make_tasks(6), work=state.work), A) == 3


# Annotator Evaluation


def evaluation(onboarding: int, **quality: Any) -> ProjectSettings:
    return project(quality={"evaluation": {"enabled": True, "onboarding_tasks": onboarding}, **quality})


def test_onboarding_evaluation_presents_ground_truth_tasks_first_then_the_remaining_project_tasks():
    tasks = make_tasks(6)
    for task_id in (3, 5, 6):
        tasks = with_task(tasks, task_id, has_ground_truth=True)
    config = evaluation(2)
    state = StreamState(tasks)
    assert eligible_tasks(config, state, A, NOW) == [3, 5, 6, 1, 2, 4]
    state = submit(config, state, A, 3, NOW)
    assert next_task(config, state, A, NOW) == NextDecision(5, "ground_truth")
    state = skip(config, state, A, 5, None, NOW)  # presented: counts toward onboarding
    # continuous evaluation: the last ground truth follows the ordering method
    assert next_task(config, state, A, NOW) == NextDecision(1, "order")
    assert eligible_tasks(config, state, A, NOW) == [1, 2, 4, 6]


def test_onboarding_zero_leaves_all_ground_truth_tasks_to_continuous_evaluation():
    tasks = with_task(make_tasks(3), 3, has_ground_truth=True)
    assert eligible_tasks(evaluation(0), StreamState(tasks), A, NOW) == [1, 2, 3]


def test_with_annotator_evaluation_ground_truth_tasks_are_not_constrained_by_overlap():
    tasks = with_task(make_tasks(2), 1, has_ground_truth=True)
    config = evaluation(1)
    state = StreamState(tasks)
    for user in range(1, 11):
        state, decision = serve(config, state, user, NOW)
        assert decision == NextDecision(1, "ground_truth")
        state = submit(config, state, user, 1, NOW)
    assert check_invariant(state, NOW, config) == []
    assert check_invariant(state, NOW) != []
    assert served(project(), state, 11) == 2  # without evaluation the task is full


# Pauses and drafts


def test_pausing_an_annotator_ends_their_reservation_keeps_their_draft_and_tells_them_they_are_paused():
    config = project()
    state = StreamState(make_tasks(2), reservations=(Reservation(A, 1, at(60)),), drafts=frozenset({(A, 1)}))
    state = pause(state, A, "failed evaluation")
    assert (state.reservations, state.drafts) == ((), frozenset({(A, 1)}))
    assert served(config, state, B) == 1  # the slot is free at once
    assert next_task(config, state, A, NOW) == NextDecision(None, "paused: failed evaluation")
    after, decision = serve(config, state, A, NOW)
    assert (after, decision.task_id) == (state, None)
    assert progress(config, state, A, NOW)["queue_left"] == 0


def test_a_task_with_the_users_draft_is_resumed_like_a_reservation():
    config = project()
    state = StreamState(make_tasks(3), drafts=frozenset({(A, 2)}))
    assert next_task(config, state, A, NOW) == NextDecision(2, "draft")
    manual = project(annotation={"assignment": "manual"})
    assigned = StreamState(state.tasks, drafts=state.drafts, assignments=frozenset({(A, 1), (A, 2)}))
    assert next_task(manual, assigned, A, NOW) == NextDecision(2, "draft")


def test_a_draft_on_a_task_that_others_filled_meanwhile_is_not_served():
    config = project()
    state = StreamState(make_tasks(2), work=(Work(B, 1, "submit", NOW),), drafts=frozenset({(A, 1)}))
    assert next_task(config, state, A, NOW) == NextDecision(2, "order")


def test_a_live_reservation_wins_over_a_draft():
    config = project()
    state = StreamState(make_tasks(3), reservations=(Reservation(A, 3, at(5)),), drafts=frozenset({(A, 2)}))
    assert next_task(config, state, A, NOW) == NextDecision(3, "reservation")


# Progress


def test_progress_counts_the_project_and_the_users_queue():
    config = project(quality={"annotation_limit_count": 4})
    state = StreamState(
        make_tasks(6), work=(Work(A, 1, "submit", NOW), Work(A, 2, "skip", NOW), Work(B, 3, "submit", NOW))
    )
    assert progress(config, state, A, NOW) == {
        "completed": 2,
        "total": 6,
        "queue_total": 4,
        "queue_done": 2,
        "queue_left": 2,
    }


def test_a_requeued_skip_is_still_left_in_the_users_queue():
    config = requeue("requeue_to_me")
    state = skip(config, StreamState(make_tasks(2)), A, 1, None, NOW)
    assert progress(config, state, A, NOW) == {
        "completed": 0,
        "total": 2,
        "queue_total": 2,
        "queue_done": 0,
        "queue_left": 2,
    }


# Whole runs


def test_fifty_annotators_with_overlap_2_each_task_ends_with_exactly_two_distinct_annotators():
    config = project(quality={"annotations_per_task": 2})
    state = StreamState(make_tasks(100, overlap=2))
    annotators = range(100, 150)
    while True:
        holding: dict[int, int] = {}
        for user in annotators:
            state, decision = serve(config, state, user, NOW)
            if decision.task_id is not None:
                holding[user] = decision.task_id
            assert check_invariant(state, NOW) == []
            assert len({r.user_id for r in state.reservations}) == len(state.reservations)
        if not holding:
            break
        for user, task_id in holding.items():
            state = submit(config, state, user, task_id, NOW)
    for task_id in state.tasks:
        authors = [w.user_id for w in state.work if w.task_id == task_id]
        assert len(authors) == len(set(authors)) == 2


QUEUES = ["requeue_to_me", "requeue_to_others", "ignore"]


@st.composite
def projects(draw: st.DrawFn) -> ProjectSettings:
    manual = draw(st.booleans())
    per_task = draw(st.integers(1, 3))
    return project(
        annotation={
            "assignment": "manual" if manual else "auto",
            "ordering": draw(st.sampled_from(["id", "random", "uncertainty"])),
            "reservation_minutes": draw(st.integers(1, 30)),
            "skip_queue": draw(st.sampled_from(QUEUES)),
            "require_comment_to_skip": draw(st.booleans()),
        },
        quality={
            "annotations_per_task": per_task,
            "coverage_percent": 100 if per_task == 1 else draw(st.sampled_from([100, 50, 20])),
            "show_overlap_first": draw(st.booleans()),
            "show_ground_truth_first": draw(st.booleans()),
            "annotation_limit_count": draw(st.sampled_from([None, None, None, 1, 3])),
            "annotation_limit_percent": draw(st.sampled_from([None, None, None, 30, 60])),
            "evaluation": {
                "enabled": not manual and draw(st.booleans()),
                "onboarding_tasks": draw(st.integers(0, 2)),
            },
        },
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ProjectSettings, StreamState, list[tuple[str, int, int]]]:
    config = draw(projects())
    n = draw(st.integers(1, 5))
    targets = overlap_targets(
        list(range(1, n + 1)), config.quality.annotations_per_task, config.quality.coverage_percent, SEED
    )
    tasks = {
        i: TaskView(
            id=i,
            inner_id=i,
            overlap=targets[i],
            random_key=random_key(SEED, i),
            allow_skip=draw(st.sampled_from([True, True, True, False])),
            has_ground_truth=draw(st.booleans()),
            prediction_score=draw(st.none() | st.floats(0, 1)),
        )
        for i in range(1, n + 1)
    }
    users = st.integers(1, 3)
    assignments: frozenset[tuple[int, int]] = frozenset()
    if config.annotation.assignment == "manual":
        assignments = frozenset(draw(st.lists(st.tuples(users, st.integers(1, n)))))
    kinds = st.sampled_from(
        ["next", "next", "next", "submit", "submit", "skip", "draft", "wait", "wait", "pause"]
    )
    actions = draw(st.lists(st.tuples(kinds, users, st.integers(0, 40)), min_size=5, max_size=60))
    return config, StreamState(tasks, assignments=assignments), actions


def act(
    config: ProjectSettings,
    state: StreamState,
    now: datetime,
    last: dict[int, int],
    action: tuple[str, int, int],
) -> tuple[StreamState, datetime]:
    """One annotator action, the way the service would take it; refusals leave the state as it was."""
    kind, user, number = action
    if kind == "wait":
        return state, now + timedelta(minutes=number)
    if kind == "pause":  # toggles
        if user in state.paused:
            return replace(state, paused={u: why for u, why in state.paused.items() if u != user}), now
        return pause(state, user, "by a manager"), now
    if kind == "next":
        eligible = eligible_tasks(config, state, user, now)
        state, decision = serve(config, state, user, now)
        assert decision.task_id is None or decision.task_id in eligible
        assert (decision.task_id is None) == (eligible == [])
        if decision.task_id is not None:
            last[user] = decision.task_id
        return state, now
    if user not in last:
        return state, now
    task_id = last[user]
    try:
        if kind == "submit":
            state = submit(config, state, user, task_id, now)
        elif kind == "skip":
            state = skip(config, state, user, task_id, "why" if number % 2 else None, now)
        else:
            state = replace(state, drafts=state.drafts | {(user, task_id)})
    except (Conflict, Forbidden, Invalid):
        pass
    return state, now


@settings(max_examples=500, deadline=None)
@given(scenarios())
def test_random_actions_never_break_the_overlap_invariant_and_next_is_always_eligible(scenario):
    config, state, actions = scenario
    now = NOW
    last: dict[int, int] = {}
    for action in actions:
        state, now = act(config, state, now, last, action)
        assert check_invariant(state, now, config) == []


EVALUATED = {"enabled": True, "pause_on_fail": True, "minimum_score": 80, "minimum_tasks": 3}


@pytest.mark.parametrize(
    ("evaluation", "score", "tasks", "paused"),
    [
        ({}, 0.79, 3, True),  # below the score required, after the tasks for evaluation
        ({}, 0.79, 2, False),  # not before ("even if the annotator gets every task wrong")
        ({}, 0.80, 9, False),  # meeting the score passes
        ({"minimum_score": 29}, 0.29, 9, False),  # exactly, whatever floating point makes of it
        ({}, None, 0, False),
        ({"pause_on_fail": False}, 0.0, 9, False),  # "calculated in the background"
        ({"enabled": False}, 0.0, 9, False),
        ({"metric": "acceptance_score"}, 0.0, 9, False),  # the score is ground-truth agreement
    ],
)
def test_pause_annotator_on_failed_evaluation(evaluation, score, tasks, paused):
    config = project(quality={"evaluation": {**EVALUATED, **evaluation}})
    assert (failed_evaluation(config, score, tasks) is not None) is paused


@pytest.mark.parametrize(
    ("strategy", "agreement", "extra", "more"),
    [
        ({}, 0.5, 0, True),
        ({}, 0.5, 1, True),
        ({}, 0.5, 2, False),  # "maximum additional annotators" reached
        ({}, 0.9, 0, False),  # the threshold is met
        ({}, None, 0, False),  # fewer than two annotations: no agreement to judge
        ({"assign_additional_on_low_agreement": False}, 0.1, 0, False),
    ],
)
def test_assign_additional_annotator_one_at_a_time_below_the_agreement_threshold(
    strategy, agreement, extra, more
):
    low = {"assign_additional_on_low_agreement": True, "threshold": 0.9, "max_additional_annotators": 2}
    config = project(quality={"annotations_per_task": 2, "agreement": {**low, **strategy}})
    assert needs_another_annotator(config, agreement, extra) is more
