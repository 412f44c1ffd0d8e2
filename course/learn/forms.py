"""Learner forms."""

from __future__ import annotations

from uuid import uuid4

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, InputRequired, Regexp


class CompleteForm(FlaskForm):
    """The "Mark as complete" toggle: the wanted state travels with the post."""

    done = HiddenField(validators=[AnyOf(["1", "0"])])


class SelfAssessmentForm(FlaskForm):
    """CSRF for the self-assessment; the rubric levels are read by the review kind."""


class ExerciseForm(FlaskForm):
    """The fixed part of every exercise form: CSRF, the version and an idempotency token.

    The answer fields depend on the exercise and are read by its grading module; this
    form only checks the envelope, so a garbled post is refused before any grading.
    """

    exercise_version = HiddenField(validators=[
        InputRequired(), Regexp(r"^[0-9a-f]{1,64}$", message="Unknown exercise version.")])
    submission_token = HiddenField(validators=[
        InputRequired(), Regexp(r"^[0-9a-f]{32}$", message="Unknown submission token.")])

    # Ticked to confirm a submission that uses the last attempt (checked by the view
    # only when it does; a plain checkbox so it works without JavaScript).
    confirm_last = BooleanField("I understand this is my last attempt at this exercise")

    ENVELOPE = frozenset({"csrf_token", "exercise_version", "submission_token",
                          "confirm_last"})

    @classmethod
    def new(cls, version: str) -> ExerciseForm:
        """A blank form for the page: a fresh token, so each page load is one submission."""
        return cls(formdata=None, exercise_version=version, submission_token=uuid4().hex)


def answer_fields(posted: MultiDict[str, str]) -> dict[str, list[str]]:
    """The posted fields other than the envelope, each with every value sent."""
    return {name: posted.getlist(name) for name in posted
            if name not in ExerciseForm.ENVELOPE}
