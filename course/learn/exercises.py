"""Exercise pages: the form (GET), a submission (POST) and the result of an attempt.

The views only check the form's envelope, call `services.attempts` once and render or
redirect; every grading and visibility decision is made in the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from course.caches import app_caches
from course.content.schema import Exercise
from course.db import get_session, reads_only
from course.grading.base import AnswerProblem, InvalidAnswer
from course.grading.kind import ExerciseKind
from course.learn import board
from course.learn.forms import Envelope, ExerciseForm, SelfAssessmentForm, answer_fields
from course.learn.views import bp
from course.models import Attempt
from course.models.attempt import AttemptStatus
from course.services import feedback as feedback_service
from course.services import self_assessment
from course.services.attempts import policy as attempt_policy
from course.services.attempts import reads as attempt_reads
from course.services.attempts import report as attempt_page
from course.services.attempts import submit as submission
from course.site import get_course, remembered_url

# Attempt numbers past this are no page of anybody's list (and overflow some drivers).
MAX_ATTEMPT_NUMBER = 2**31 - 1
STALE_MESSAGE = ("This exercise changed since you opened it, so your answer was not "
                 "graded. It is filled in again below on the new version, as far as the "
                 "items are still the same: check it and submit again.")


@bp.app_template_global()
def placement_board(columns: Sequence[Mapping[str, str]], items: Sequence[Any],
                    posted: board.Posted | None) -> Markup:
    """The placement board of a sort or now-next-later form (course.learn.board)."""
    return board.build(columns, items).render(posted)


@bp.app_template_global()
def attempt_answer(report: attempt_page.AttemptReport, kind: ExerciseKind) -> Markup:
    """The kind's account of an attempt on the learner's attempt page (the answer macro of
    its partial).

    It is the same for equal answers to one exercise version whose report was worked out
    from the answer (`report.answer_key`): kept (caches.AppCaches.attempt_answers).
    """
    # A macro of an autoescaping template: it returns Markup.
    answer: Callable[[attempt_page.AttemptReport, ExerciseKind], Markup] = (
        current_app.jinja_env.get_template(kind.PARTIAL).module.answer)  # type: ignore[attr-defined]
    if report.answer_key is None:
        return answer(report, kind)
    key = (report.exercise.id, report.exercise.version, report.answer_key,
           report.answer_visible)
    return app_caches(current_app).attempt_answers.kept(key, lambda: answer(report, kind))


@bp.app_template_global()
def answer_form(exercise: Exercise, kind: ExerciseKind, posted: MultiDict[str, str] | None,
                key: str | None) -> Markup:
    """The answer's controls on the exercise page (the form macro of the kind's partial).

    They depend only on the exercise version and what is filled in, so for an
    auto-graded exercise they are kept (caches.AppCaches.answer_forms) by `key`: "" for a
    blank form, the JSON of the prefilled answer (`attempts.answer_key`) for a retry.
    None (a refused post's fields, written work, which is nobody else's) renders them
    every time. Not kept in debug, where a partial's script (order.js) changes under the
    developer's hands, and its `?v=` with it.
    """
    # A macro of an autoescaping template: it returns Markup.
    form: Callable[[Exercise, ExerciseKind, MultiDict[str, str] | None], Markup] = (
        current_app.jinja_env.get_template(kind.PARTIAL).module.form)  # type: ignore[attr-defined]
    if key is None or current_app.debug:
        return form(exercise, kind, posted)
    return app_caches(current_app).answer_forms.kept(
        (request.script_root, exercise.id, exercise.version, key),
        lambda: form(exercise, kind, posted))


@bp.app_template_global()
def attempt_url(attempt_id: int) -> str:
    """`url_for("learn.attempt", attempt_id=attempt_id)`, from attempt 1's URL remembered
    per mount point: the exercise page lists up to 20 attempts, and building each URL cost
    more than the rest of its line. The route ends with the id."""
    first = remembered_url("learn.attempt:1", "learn.attempt", attempt_id=1)
    return f"{first.removesuffix('1')}{attempt_id}"


# An attempt's status in the exercise page's list: (awaiting review, passed) -> markup.
_STATUSES = {
    (True, passed): Markup('<span class="status status-pending"><span aria-hidden="true">'
                           "◷ </span>Awaiting review</span>") for passed in (False, True)} | {
    (False, True): Markup('<span class="status status-done"><span aria-hidden="true">✓ '
                          "</span>Passed</span>"),
    (False, False): Markup('<span class="status status-todo"><span aria-hidden="true">✗ '
                           "</span>Not passed</span>")}


@bp.app_template_global()
def attempt_status(attempt: attempt_reads.ListedAttempt) -> Markup:
    """Awaiting review, passed or not passed, in words and a symbol."""
    return _STATUSES[(attempt.status == AttemptStatus.AWAITING_REVIEW, bool(attempt.passed))]


def _exercise_or_404(step_id: str) -> Exercise:
    return get_course().exercise(step_id) or abort(404)


NO_ATTEMPTS = (attempt_reads.Standing(used=0, passed=False, last_id=None),
               attempt_reads.AttemptsPage([], older=None))


def _my_attempts(exercise: Exercise, before: int | None
                 ) -> tuple[attempt_reads.Standing, attempt_reads.AttemptsPage]:
    """The learner's standing and one page of their attempts: one query however many
    attempts they have made."""
    if not current_user.is_authenticated:
        return NO_ATTEMPTS
    return attempt_reads.recent_attempts(get_session(), current_user.id, exercise.id, before)


def _valid_before(before: int | None) -> bool:
    return before is None or 0 < before <= MAX_ATTEMPT_NUMBER


def _render_form(exercise: Exercise, form: Envelope, problems: list[str] | None = None,
                 posted: MultiDict[str, str] | None = None, status: int = 200,
                 before: int | None = None, prefill: bool = False) -> ResponseReturnValue:
    """The exercise page; after a refused post it keeps the learner's choices, and with
    `prefill` a retry starts from their newest attempt's answer."""
    standing, attempts = _my_attempts(exercise, before)
    prefilled_from = None
    # The answer form is kept for a blank or prefilled form (answer_form), not for posted
    # fields.
    form_key = "" if posted is None and exercise.auto_graded else None
    if prefill and standing.last_id is not None:
        newest = next((a for a in attempts.attempts if a.id == standing.last_id), None) \
            or attempt_reads.attempt_of(get_session(), current_user.id, standing.last_id)
        if newest is not None and newest.answer is not None:
            posted = MultiDict(attempt_page.retry_fields(exercise, newest.answer))
            prefilled_from = newest.number
            if form_key is not None:
                form_key = attempt_page.answer_key(newest.answer)
    previous, following = get_course().neighbours(exercise.id)
    return render_template(
        "learn/exercise.html", exercise=exercise, form=form, standing=standing,
        attempts=attempts,
        attempts_left=attempt_policy.attempts_left(exercise.policy, standing.used),
        confirm_last=attempt_policy.spends_last_attempt(exercise.policy, standing.used),
        problems=problems or [], posted=posted, previous=previous, following=following,
        prefilled_from=prefilled_from, form_key=form_key,
        lessons=get_course().review_sections(exercise)), status


def _refuse(exercise: Exercise, message: str, status: int,
            last_attempt: Attempt | None = None) -> ResponseReturnValue:
    return render_template("learn/exercise_refused.html", exercise=exercise, message=message,
                           last_attempt=last_attempt), status


@bp.get("/exercises/<step_id>")
@reads_only
def exercise(step_id: str) -> ResponseReturnValue:
    """The form; for a returning learner it holds their last answer unless they asked
    to start over (`?start=over`)."""
    exercise = _exercise_or_404(step_id)
    before = request.args.get("before", type=int)
    if not _valid_before(before):
        abort(400)
    return _render_form(exercise, Envelope.new(exercise.version), before=before,
                        prefill=request.args.get("start") != "over")


@bp.post("/exercises/<step_id>")
@login_required
def submit_exercise(step_id: str) -> ResponseReturnValue:
    exercise = _exercise_or_404(step_id)
    form = ExerciseForm()
    if not form.validate():
        return _refuse(exercise, "This form is incomplete or was changed: it has no valid "
                       "version or submission token. Reload the page and try again.", 400)
    token = form.submission_token.data or ""
    prior = submission.before_submitting(get_session(), current_user.id, exercise.id,
                                         token)
    # A resent form is answered with its attempt (by `submit`), confirmed or not.
    if (prior.resent is None
            and attempt_policy.spends_last_attempt(exercise.policy, prior.standing.used)
            and not form.confirm_last.data):
        return _render_form(exercise, form.envelope(), [AnswerProblem(
            "This would use your last attempt. Tick the box under your answer to confirm, "
            "then submit again.", "confirm_last")], request.form, 400)
    try:
        attempt = submission.submit(
            get_session(), current_user.id, exercise, answer_fields(request.form),
            token=token, version=form.exercise_version.data or "", known=prior)
    except submission.StaleExercise:
        # Keep the learner's work: the form comes back on the current version with their
        # answer in it, as far as the new version still has the same items.
        return _render_form(exercise, Envelope.new(exercise.version), [STALE_MESSAGE],
                            request.form, 409)
    except submission.AttemptLimitReached as refused:
        limit = exercise.policy.max_attempts
        return _refuse(exercise, f"You have used all {limit} attempts at this exercise, so "
                       "this answer was not submitted.", 409, refused.last_attempt)
    except submission.AwaitingReview as waiting:
        return _refuse(exercise, "Your last answer is still awaiting review by an "
                       "instructor, so this one was not submitted. Once the review is "
                       "released you can see it and, if you have attempts left, answer "
                       "again.", 409, waiting.last_attempt)
    except submission.SubmissionClash:
        return _render_form(exercise, Envelope.new(exercise.version), [AnswerProblem(
            "Other answers of yours to this exercise were being stored at the same moment, "
            "so this one was not. Your answer is still here: submit it again.")],
            request.form, 409)
    except InvalidAnswer as invalid:
        return _render_form(exercise, form.envelope(), invalid.problems, request.form, 400)
    return redirect(url_for("learn.attempt", attempt_id=attempt.id), 303)


@bp.get("/attempts/<id:attempt_id>")
@reads_only  # and the one UPDATE that marks its feedback read
@login_required
def attempt(attempt_id: int) -> ResponseReturnValue:
    """A learner's own attempt; anybody else's is "not found", not "forbidden", so ids
    reveal nothing."""
    return _render_attempt(*_own_attempt(attempt_id))


@bp.post("/attempts/<id:attempt_id>/self-assessment")
@login_required
def self_assess(attempt_id: int) -> ResponseReturnValue:
    """The learner's own rubric levels for their written work (auto-graded work has no
    rubric to assess against, so there is nothing to post to)."""
    attempt, standing = _own_attempt(attempt_id)
    exercise = _exercise_or_404(attempt.exercise_id)
    if exercise.auto_graded or not SelfAssessmentForm().validate():
        abort(404 if exercise.auto_graded else 400)
    try:
        self_assessment.save(get_session(), attempt, exercise, request.form)
    except InvalidAnswer as invalid:
        return _render_attempt(attempt, standing, invalid.problems, request.form, 400)
    flash("Your self-assessment is saved. Compare it with the worked example below.",
          "success")
    return redirect(url_for("learn.attempt", attempt_id=attempt.id, _anchor="self-assessment"),
                    303)


def _own_attempt(attempt_id: int
                 ) -> tuple[attempt_reads.OwnAttempt, attempt_reads.Standing]:
    return attempt_reads.own_attempt(get_session(), current_user.id, attempt_id) \
        or abort(404)


def _render_attempt(attempt: attempt_reads.OwnAttempt, standing: attempt_reads.Standing,
                    problems: list[str] | None = None,
                    posted: MultiDict[str, str] | None = None,
                    status: int = 200) -> ResponseReturnValue:
    exercise = _exercise_or_404(attempt.exercise_id)
    report = attempt_page.attempt_report(exercise, attempt, standing, course=get_course())
    _, following = get_course().neighbours(exercise.id)
    unread = attempt.feedback_unread
    # An attempt nobody has reviewed has no feedback to read.
    feedback = None if attempt.reviewed_at is None else feedback_service.read_feedback(
        get_session(), attempt, exercise)
    if unread and current_user.new_feedback:
        # Opening it was the reading: the header's badge (read with the sign-in) follows.
        current_user.new_feedback = feedback_service.exercises_with_new_feedback(
            get_session(), current_user.id)
    return render_template("learn/attempt.html", report=report, exercise=exercise,
                           attempt=attempt, following=following,
                           lessons=get_course().review_sections(exercise),
                           problems=problems or [], posted=posted,
                           # Only written work has a self-assessment form to protect.
                           self_form=None if exercise.auto_graded else SelfAssessmentForm(),
                           feedback=feedback), status
