"""Every project setting, grouped as the settings tabs of the spec, with the spec's defaults."""

from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.task_state import SkipQueue

Percent = Annotated[float, Field(ge=0, le=100)]


class Group(BaseModel):
    """A settings tab: unknown keys are refused so a typo never passes silently; so are infinite and
    NaN numbers, which JSON cannot hold (stored as null, they would fail every later read). Frozen:
    a change is a new object, so one read of the settings can serve every request that sees them."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class General(Group):
    title: str = Field("", max_length=200)
    description: str = ""
    color: str = Field("#FFFFFF", pattern=r"^#[0-9A-Fa-f]{6}$")
    task_data_login: str | None = Field(None, description="Proxy credentials for protected task data.")
    task_data_password: str | None = None
    is_published: bool = False
    is_draft: bool = False


class Annotation(Group):
    instructions: str = Field("", description="HTML shown to annotators; sanitised when rendered.")
    show_instructions: bool = Field(False, description="Show before labeling.")
    assignment: Literal["auto", "manual"] = "auto"
    ordering: Literal["id", "random", "uncertainty"] = "id"
    reservation_minutes: int = Field(1440, ge=1, le=1440, description="Task reservation time.")
    allow_empty_annotations: bool = True
    show_data_manager_to_annotators: bool = False
    show_only_used_columns_to_annotators: bool = False
    allow_skip: bool = True
    require_comment_to_skip: bool = False
    skip_queue: SkipQueue = SkipQueue.REQUEUE_TO_OTHERS
    use_predictions: bool = Field(True, description="Use predictions to pre-label tasks.")
    predictions_source: str = Field("", description="Model version or ML backend whose predictions are used.")
    reveal_preannotations_interactively: bool = False
    live_predictions: bool = Field(
        False, description="Ask the ML backend for a prediction when a task opens."
    )
    show_annotation_history: bool = False


class Review(Group):
    instructions: str = ""
    show_instructions: bool = Field(False, description="Show before reviewing.")
    reviewed_when: Literal["one_accepted", "all_reviewed"] = "one_accepted"
    review_only_assigned: bool = False
    only_finished_tasks: bool = False
    ordering: Literal["id", "random"] = "id"
    task_limit_percent: Percent | None = Field(
        None, description="Share of tasks served when ordering is random."
    )
    reject_action: Literal["requeue", "remove", "choose"] = "requeue"
    require_comment_on_reject: bool = False
    show_data_manager_to_reviewers: bool = True
    show_unused_columns_to_reviewers: bool = True
    show_agreement_to_reviewers: bool = False
    anonymize_annotations: bool = False


class Evaluation(Group):
    enabled: bool = False
    onboarding_tasks: int = Field(0, ge=0, description="Ground-truth tasks served first.")
    continuous_tasks: int = Field(
        0, ge=0, description="Ground-truth tasks served among the others after onboarding."
    )
    metric: Literal["gt_agreement", "acceptance_score", "rejection_rate"] = "gt_agreement"
    pause_on_fail: bool = False
    minimum_score: Percent = Field(95, description="Ground-truth agreement (%) needed to pass.")
    minimum_tasks: int = Field(10, ge=1, description="Ground-truth tasks done before anyone can be paused.")


class Agreement(Group):
    metric: Literal["default"] = Field(
        "default", description="Matching function: 'default', the metric Agreement V2 gives each tag."
    )
    methodology: Literal["pairwise", "consensus"] = "pairwise"
    assign_additional_on_low_agreement: bool = Field(False, description="The low agreement strategy.")
    threshold: float = Field(0.8, ge=0, le=1, description="Agreement a task needs to be complete.")
    max_additional_annotators: int = Field(0, ge=0)


class ControlWeight(Group):
    model_config = ConfigDict(extra="allow")

    overall: float = Field(1.0, ge=0)
    type: str = ""
    labels: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


class Quality(Group):
    annotations_per_task: int = Field(1, ge=1, le=1000, description="Overlap: distinct annotators per task.")
    coverage_percent: Percent = Field(100, description="Share of tasks that get the overlap.")
    show_overlap_first: bool = False
    show_ground_truth_first: bool = False
    annotation_limit_count: int | None = Field(None, ge=1, description="Tasks per annotator.")
    annotation_limit_percent: Percent | None = Field(
        None, description="Tasks per annotator, % of the project."
    )
    evaluation: Evaluation = Field(default_factory=Evaluation)
    agreement: Agreement = Field(default_factory=Agreement)
    control_weights: dict[str, ControlWeight] = Field(default_factory=dict)


class Model(Group):
    train_on_submission: bool = False
    min_annotations_to_start_training: int = Field(0, ge=0)


class ProjectSettings(Group):
    """One project's configuration; combinations the spec forbids are refused with the field named."""

    general: General = Field(default_factory=General)
    annotation: Annotation = Field(default_factory=Annotation)
    review: Review = Field(default_factory=Review)
    quality: Quality = Field(default_factory=Quality)
    model: Model = Field(default_factory=Model)

    @model_validator(mode="after")
    def _combinations(self) -> Self:
        quality = self.quality
        if quality.annotations_per_task == 1 and quality.coverage_percent != 100:
            raise ValueError(
                "quality.coverage_percent: coverage applies only when annotations per task is 2 or more"
            )
        if quality.evaluation.enabled and self.annotation.assignment == "manual":
            raise ValueError(
                "quality.evaluation.enabled: annotator evaluation needs automatic task assignment"
            )
        return self

    def effective_skip_queue(self) -> SkipQueue:
        """Under manual assignment, requeue-to-others behaves as ignore (spec, Skip Queue)."""
        queue = self.annotation.skip_queue
        if self.annotation.assignment == "manual" and queue is SkipQueue.REQUEUE_TO_OTHERS:
            return SkipQueue.IGNORE
        return queue


def decimal_text(value: float | None) -> str | None:
    """Label Studio sends some numbers as decimal strings."""
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


def as_number(value: Any) -> Any:
    """Accept numbers sent as decimal strings, leave anything else for validation to judge."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
