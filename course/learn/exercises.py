"""Exercise pages: the form (GET), a submission (POST) and the result of an attempt.

The views only check the form's envelope, call `services.attempts` once and render or
redirect; every grading and visibility decision is made in the service.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from course.content.schema import Exercise
from course.db import get_session
from course.grading.base import InvalidAnswer
from course.learn.forms import ExerciseForm, answer_fields
from course.learn.views import bp
from course.models import Attempt
from course.services import attempts as attempt_service
from course.services import review as review_service
from course.site import get_course

# Attempt numbers past this are no page of anybody's list (and overflow some drivers).
MAX_ATTEMPT_NUMBER = 2**31 - 1
STALE_MESSAGE = ("This exercise changed since you opened it. "
                 "Reload it to get the current version.")


def _exercise_or_404(step_id: str) -> Exercise:
    return get_course().exercise(step_id) or abort(404)


NO_ATTEMPTS = (attempt_service.Standing(used=0, passed=False, last_id=None),
               attempt_service.AttemptsPage([], older=None))


def _my_attempts(exercise: Exercise, before: int | None
                 ) -> tuple[attempt_service.Standing, attempt_service.AttemptsPage]:
    """The learner's standing and one page of their attempts: two queries however many
    attempts they have made."""
    if not current_user.is_authenticated:
        return NO_ATTEMPTS
    session = get_session()
    return (attempt_service.standing(session, current_user.id, exercise.id),
            attempt_service.recent_attempts(session, current_user.id, exercise.id, before))


def _render_form(exercise: Exercise, form: ExerciseForm, problems: list[str] | None = None,
                 posted: MultiDict[str, str] | None = None, status: int = 200,
                 before: int | None = None):
    """The exercise page; after a refused post it keeps the learner's choices."""
    standing, attempts = _my_attempts(exercise, before)
    previous, following = get_course().neighbours(exercise.id)
    return render_template(
        "learn/exercise.html", exercise=exercise, form=form, standing=standing,
        attempts=attempts,
        attempts_left=attempt_service.attempts_left(exercise.policy, standing.used),
        problems=problems or [], posted=posted, previous=previous, following=following), status


def _refuse(exercise: Exercise, message: str, status: int, last_attempt: Attempt | None = None):
    return render_template("learn/exercise_refused.html", exercise=exercise, message=message,
                           last_attempt=last_attempt), status


@bp.get("/exercises/<step_id>")
def exercise(step_id: str):
    exercise = _exercise_or_404(step_id)
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before <= MAX_ATTEMPT_NUMBER:
        abort(400)
    return _render_form(exercise, ExerciseForm.new(exercise.version), before=before)


@bp.post("/exercises/<step_id>")
@login_required
def submit_exercise(step_id: str):
    exercise = _exercise_or_404(step_id)
    form = ExerciseForm()
    if not form.validate():
        return _refuse(exercise, "This form is incomplete or was changed: it has no valid "
                       "version or submission token. Reload the page and try again.", 400)
    try:
        attempt = attempt_service.submit(
            get_session(), current_user.id, exercise, answer_fields(request.form),
            token=form.submission_token.data, version=form.exercise_version.data)
    except attempt_service.StaleExercise:
        return _refuse(exercise, STALE_MESSAGE, 409)
    except attempt_service.AttemptLimitReached as refused:
        used = exercise.policy.max_attempts
        return _refuse(exercise, f"You have used all {used} attempts at this exercise, so "
                       "this answer was not submitted.", 409, refused.last_attempt)
    except InvalidAnswer as invalid:
        return _render_form(exercise, form, invalid.problems, request.form, 400)
    return redirect(url_for("learn.attempt", attempt_id=attempt.id), 303)


@bp.get("/attempts/<id:attempt_id>")
@login_required
def attempt(attempt_id: int):
    """A learner's own attempt; anybody else's is "not found", not "forbidden", so ids
    reveal nothing."""
    session = get_session()
    attempt = attempt_service.attempt_of(session, current_user.id, attempt_id) or abort(404)
    exercise = _exercise_or_404(attempt.exercise_id)
    report = attempt_service.attempt_report(
        exercise, attempt, attempt_service.standing(session, current_user.id, exercise.id))
    _, following = get_course().neighbours(exercise.id)
    return render_template("learn/attempt.html", report=report, exercise=exercise,
                           attempt=attempt, following=following,
                           feedback=review_service.read_feedback(session, attempt, exercise))
