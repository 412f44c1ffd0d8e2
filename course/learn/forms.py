"""Learner forms."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, InputRequired, Regexp


class CompleteForm(FlaskForm):
    """The "Mark as complete" toggle: the wanted state travels with the post.

    Only checks the post: templates/learn/lesson.html writes its two hidden inputs itself,
    since building and rendering the form cost a quarter of a signed-in lesson page.
    """

    done = HiddenField(validators=[AnyOf(["1", "0"])])


class SelfAssessmentForm(FlaskForm):
    """CSRF for the self-assessment; the rubric levels are read by the review kind."""


class ExerciseForm(FlaskForm):
    """The fixed part of every exercise form: CSRF, the version and an idempotency token.

    The answer fields depend on the exercise and are read by its grading module; this
    form only checks the envelope, so a garbled post is refused before any grading.
    """

    class Meta:
        # The app-wide CSRFProtect (course.extensions) refuses a post without this
        # session's token before any view runs; the form checking it again only cost time.
        csrf = False

    exercise_version = HiddenField(validators=[
        InputRequired(), Regexp(r"^[0-9a-f]{1,64}$", message="Unknown exercise version.")])
    submission_token = HiddenField(validators=[
        InputRequired(), Regexp(r"^[0-9a-f]{32}$", message="Unknown submission token.")])

    # Ticked to confirm a submission that uses the last attempt (checked by the view
    # only when it does; a plain checkbox so it works without JavaScript). Its label is
    # in templates/learn/exercise.html, which writes the form's fixed part (Envelope).
    confirm_last = BooleanField()

    ENVELOPE = frozenset({"csrf_token", "exercise_version", "submission_token",
                          "confirm_last"})

    def envelope(self) -> Envelope:
        """What was posted, for the page that sends the form back to the learner."""
        return Envelope(self.exercise_version.data or "", self.submission_token.data or "",
                        bool(self.confirm_last.data))


@dataclass(frozen=True)
class Envelope:
    """The fixed part of the exercise page's form, which the template writes as plain
    inputs (with the request's CSRF token): building and rendering an ExerciseForm for
    the page cost a sixth of the page; the form is only needed to check a post."""

    version: str
    token: str
    confirm_last: bool = False

    @classmethod
    def new(cls, version: str) -> Envelope:
        """A blank form for the page: a fresh token, so each page load is one submission."""
        return cls(version, uuid4().hex)


def answer_fields(posted: MultiDict[str, str]) -> dict[str, list[str]]:
    """The posted fields other than the envelope, each with every value sent."""
    return {name: posted.getlist(name) for name in posted
            if name not in ExerciseForm.ENVELOPE}
