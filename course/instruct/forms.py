"""Instructor forms: the queue's filters, the review of one submission, regrade."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: 3.2
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from course.content.schema import Exercise
from course.grading.registry import kind_of
from course.grading.rubric import Criterion
from course.models.attempt import AttemptStatus
from course.services.review import FEEDBACK_MAX_LENGTH, ReviewInput
from course.services.submissions import DRAFT, NEWEST, OLDEST, QueueFilters

STATUS_LABELS = {AttemptStatus.AWAITING_REVIEW.value: "Awaiting review",
                 DRAFT: "Draft review, not released",
                 AttemptStatus.REVIEWED.value: "Reviewed",
                 AttemptStatus.AUTO_GRADED.value: "Auto-graded"}
ORDER_LABELS = {OLDEST: "Oldest first", NEWEST: "Newest first"}
RUBRIC_PREFIX = "rubric-"


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class QueueFilterForm(FlaskForm):
    """The queue's filters: a GET form, so filtered pages can be bookmarked and shared.
    With no parameters at all the queue is the work list: awaiting review, oldest first."""

    class Meta:
        csrf = False

    exercise = SelectField("Exercise", default="")
    status = SelectField("Status", default="", choices=[
        SelectChoice(value, label)
        for value, label in [("", "Any status"), *STATUS_LABELS.items()]])
    order = SelectField("Order", default=OLDEST, choices=[
        SelectChoice(value, label) for value, label in ORDER_LABELS.items()])
    learner = SearchField("Learner", filters=[_strip], validators=[Length(max=100)],
                          description="Part of a name or email address")

    def __init__(self, exercises: tuple[Exercise, ...], **kwargs: Any):
        if not kwargs.get("formdata"):
            kwargs["formdata"] = None
            kwargs["data"] = {"status": AttemptStatus.AWAITING_REVIEW.value, "order": OLDEST}
        super().__init__(**kwargs)
        self.exercise.choices = [SelectChoice("", "All exercises"),
                                 *(SelectChoice(e.id, e.title) for e in exercises)]

    def filters(self) -> QueueFilters:
        return QueueFilters(exercise_id=self.exercise.data or None,
                            status=self.status.data or None,
                            learner=self.learner.data or None,
                            order=self.order.data or OLDEST)

    def query_args(self) -> dict[str, Any]:
        """The filters as URL parameters, so links from the queue can lead back to it."""
        return {"exercise": self.exercise.data or "", "status": self.status.data or "",
                "learner": self.learner.data or "", "order": self.order.data or OLDEST}


class ReviewForm(FlaskForm):
    """Feedback, an optional override and, for written work, one rubric level per
    criterion (added per exercise by `for_exercise`). `revision` is the attempt's revision
    when the page was loaded: the service refuses the save if it has moved on since."""

    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    feedback = TextAreaField(
        "Feedback to the learner", filters=[_strip],
        validators=[Length(max=FEEDBACK_MAX_LENGTH,
                           message=f"Keep the feedback under {FEEDBACK_MAX_LENGTH:,} characters.")],
        description="Markdown: **bold**, *italic*, lists and links work.")
    override = FloatField(
        "Override score (%)", validators=[Optional(), NumberRange(
            min=0, max=100, message="Enter a score from 0 to 100.")],
        description="Leave empty to keep the score from the grading.")
    reason = TextAreaField("Reason for the override", filters=[_strip],
                           validators=[Length(max=1000)],
                           description="Required with an override; kept in the score history.")

    criteria: Sequence[Criterion] = ()

    @classmethod
    def for_exercise(cls, exercise: Exercise | None, **kwargs: Any) -> ReviewForm:
        """A review form with a rubric radio group per criterion of a written exercise."""
        criteria = kind_of(exercise).rubric(exercise.spec) if exercise is not None else ()
        fields: dict[str, Any] = {"criteria": criteria}
        for criterion in criteria:
            fields[RUBRIC_PREFIX + criterion.id] = RadioField(
                criterion.title, coerce=float,
                choices=[SelectChoice(level.points, level.label)
                         for level in criterion.best_first],
                validators=[InputRequired(f"Choose a level for '{criterion.title}'.")])
        form: ReviewForm = type("ExerciseReviewForm", (cls,), fields)(**kwargs)
        return form

    def validate_override(self, field: Field) -> None:
        if field.data is not None and not math.isfinite(field.data):
            raise ValidationError("Enter a score from 0 to 100.")

    def validate_reason(self, field: Field) -> None:
        if self.override.data is not None and not field.data:
            raise ValidationError("Give a reason for overriding the score.")

    def rubric_field(self, criterion: Criterion) -> RadioField:
        field: RadioField = self[RUBRIC_PREFIX + criterion.id]
        return field

    def rubric_levels(self) -> dict[str, float] | None:
        """Criterion id -> chosen points, or None when this exercise has no rubric."""
        if not self.criteria:
            return None
        return {c.id: self.rubric_field(c).data for c in self.criteria}

    def review_input(self) -> ReviewInput:
        """The review as the service takes it; the override as a score from 0 to 1."""
        override = None if self.override.data is None else self.override.data / 100
        return ReviewInput(self.rubric_levels(), self.feedback.data or "", override,
                           self.reason.data or "")


class RegradeForm(FlaskForm):
    """The regrade button: a POST that carries only the CSRF token."""


BACK_TO_DASHBOARD = "dashboard"


class ReleaseForm(FlaskForm):
    """A release button (one attempt, every draft of an exercise, or every draft): the
    token, and where to go afterwards when that is not the page the drafts came from."""

    back = HiddenField(validators=[Optional(), AnyOf([BACK_TO_DASHBOARD])])

    @property
    def to_dashboard(self) -> bool:
        return self.back.data == BACK_TO_DASHBOARD
