"""Project settings: the spec's defaults, the combinations it forbids, and Label Studio's field names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.domain.errors import Invalid
from app.domain.project_settings import LS_FIELDS, ProjectSettings, apply_ls_fields, to_ls_fields
from app.domain.project_settings.ls_fields import NESTED
from app.domain.task_state import SkipQueue

DEFAULTS = ProjectSettings()


def test_reservation_defaults_to_1440_minutes_which_is_the_maximum():
    assert DEFAULTS.annotation.reservation_minutes == 1440
    with pytest.raises(Invalid, match="custom_task_lock_ttl"):
        apply_ls_fields(DEFAULTS, {"custom_task_lock_ttl": 1441 * 60})


def test_each_task_only_needs_one_annotator_by_default():
    assert DEFAULTS.quality.annotations_per_task == 1
    assert DEFAULTS.quality.coverage_percent == 100


def test_requeue_skipped_tasks_to_others_is_the_default_skip_queue():
    assert DEFAULTS.annotation.skip_queue is SkipQueue.REQUEUE_TO_OTHERS


def test_automatic_assignment_by_task_id_is_the_default():
    assert (DEFAULTS.annotation.assignment, DEFAULTS.annotation.ordering) == ("auto", "id")


def test_skipping_and_empty_annotations_are_allowed_by_default():
    assert DEFAULTS.annotation.allow_skip
    assert DEFAULTS.annotation.allow_empty_annotations
    assert not DEFAULTS.annotation.require_comment_to_skip


def test_coverage_is_only_available_when_annotations_per_task_is_two_or_more():
    with pytest.raises(Invalid) as error:
        apply_ls_fields(DEFAULTS, {"overlap_cohort_percentage": 50})
    assert error.value.field == "overlap_cohort_percentage"
    assert (
        apply_ls_fields(
            DEFAULTS, {"maximum_annotations": 3, "overlap_cohort_percentage": 50}
        ).quality.coverage_percent
        == 50
    )


def test_annotator_evaluation_needs_automatic_assignment():
    manual = {"assignment_settings": {"label_stream_task_distribution": "assigned_only"}}
    with pytest.raises(Invalid, match="evaluation"):
        apply_ls_fields(DEFAULTS, {**manual, "annotator_evaluation_enabled": True})


def test_switching_to_manual_turns_evaluation_off():
    evaluating = apply_ls_fields(DEFAULTS, {"annotator_evaluation_enabled": True})
    manual = apply_ls_fields(
        evaluating, {"assignment_settings": {"label_stream_task_distribution": "assigned_only"}}
    )
    assert manual.annotation.assignment == "manual"
    assert manual.quality.evaluation.enabled is False


def test_requeue_to_others_behaves_as_ignore_under_manual_assignment():
    manual = apply_ls_fields(
        DEFAULTS, {"assignment_settings": {"label_stream_task_distribution": "assigned_only"}}
    )
    assert manual.annotation.skip_queue is SkipQueue.REQUEUE_TO_OTHERS
    assert manual.effective_skip_queue() is SkipQueue.IGNORE
    assert DEFAULTS.effective_skip_queue() is SkipQueue.REQUEUE_TO_OTHERS


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("annotation_limit_percent", "150"),
        ("annotation_limit_percent", -1),
        ("overlap_cohort_percentage", 101),
        ("annotation_limit_count", 0),
        ("maximum_annotations", 0),
        ("max_additional_annotators_assignable", -1),
        ("agreement_threshold", "1.5"),
        ("agreement_metric", "exact_matching"),
        ("annotator_evaluation_minimum_score", "101"),
        ("sampling", "Random please"),
        ("skip_queue", "SOMETIMES"),
        ("color", "red"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field(field, value):
    payload = (
        {"maximum_annotations": 2, field: value} if field == "overlap_cohort_percentage" else {field: value}
    )
    with pytest.raises(Invalid) as error:
        apply_ls_fields(DEFAULTS, payload)
    assert error.value.field == field
    assert field in error.value.message


def test_review_settings_partial_update_leaves_the_rest():
    first = apply_ls_fields(
        DEFAULTS, {"review_settings": {"require_comment_on_reject": True, "sampling": "random"}}
    )
    second = apply_ls_fields(first, {"review_settings": {"review_task_limit_percent": "60"}})
    assert second.review.require_comment_on_reject is True
    assert second.review.ordering == "random"
    assert second.review.task_limit_percent == 60
    assert to_ls_fields(second)["review_settings"]["review_task_limit_percent"] == "60"


def test_review_settings_reject_modes_map_both_ways():
    choose = apply_ls_fields(DEFAULTS, {"review_settings": {"requeue_rejected_tasks_mode": "flexible"}})
    assert choose.review.reject_action == "choose"
    assert to_ls_fields(choose)["review_settings"]["requeue_rejected_tasks_mode"] == "flexible"
    remove = apply_ls_fields(DEFAULTS, {"requeue_rejected_tasks_to_annotator": False})
    assert remove.review.reject_action == "remove"


def test_payload_as_the_new_client_sends_it():
    settings = apply_ls_fields(
        DEFAULTS,
        {
            "maximum_annotations": 2,
            "overlap_cohort_percentage": 50,
            "sampling": "Uniform sampling",
            "label_config": "x",
        },
    )
    assert settings.quality.annotations_per_task == 2
    assert settings.annotation.ordering == "random"


def test_lock_ttl_seconds_round_up_to_minutes():
    settings = apply_ls_fields(DEFAULTS, {"custom_task_lock_ttl": 90})
    assert settings.annotation.reservation_minutes == 2
    assert to_ls_fields(settings)["custom_task_lock_ttl"] == 120


def test_every_flat_field_is_listed():
    assert set(to_ls_fields(DEFAULTS)) - {"requeue_rejected_tasks_to_annotator"} <= LS_FIELDS


settings_payloads = st.fixed_dictionaries(
    {
        "maximum_annotations": st.integers(1, 10),
        "sampling": st.sampled_from(["Sequential sampling", "Uniform sampling", "Uncertainty sampling"]),
        "skip_queue": st.sampled_from(["REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED"]),
        "show_skip_button": st.booleans(),
        "custom_task_lock_ttl": st.integers(1, 1440).map(lambda m: m * 60),
        "annotation_limit_count": st.none() | st.integers(1, 1000),
        "annotation_limit_percent": st.none() | st.integers(0, 100).map(str),
        "agreement_threshold": st.integers(0, 100).map(lambda v: str(v / 100)),
        "review_settings": st.fixed_dictionaries(
            {
                "review_criteria": st.sampled_from(["one", "all"]),
                "sampling": st.sampled_from(["task_id", "random"]),
            }
        ),
    }
)


@given(settings_payloads)
def test_ls_fields_round_trip(payload):
    settings = apply_ls_fields(DEFAULTS, payload)
    assert apply_ls_fields(DEFAULTS, to_ls_fields(settings)) == settings


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
nested_fields = st.sampled_from(sorted(NESTED)).flatmap(
    lambda name: st.tuples(st.just(name), st.sampled_from(sorted(NESTED[name])))
)


@given(st.sampled_from(sorted(LS_FIELDS)) | nested_fields, json_values)
def test_any_value_of_any_field_is_taken_or_refused_naming_the_field(field, value):
    """A value of any JSON kind for any field (or any field of review_settings and
    assignment_settings) makes settings or an error that names the field; nothing else."""
    name = field if isinstance(field, str) else field[0]
    payload = {name: value} if isinstance(field, str) else {name: {field[1]: value}}
    refused = None
    try:
        apply_ls_fields(DEFAULTS, payload)
    except Invalid as error:
        refused = error
    assert refused is None or name in f"{refused.field} {refused.message}"


def test_settings_are_never_changed_in_place_so_one_read_can_be_shared():
    settings = ProjectSettings()
    changed = apply_ls_fields(settings, {"maximum_annotations": 3, "show_skip_button": False})
    assert (changed.quality.annotations_per_task, changed.annotation.allow_skip) == (3, False)
    assert (settings.quality.annotations_per_task, settings.annotation.allow_skip) == (1, True)
    with pytest.raises(ValidationError, match="frozen"):
        settings.quality.annotations_per_task = 3  # type: ignore[misc]
