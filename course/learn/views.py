"""Learner views: validate, call one service, render or redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from course.content.schema import Step
from course.db import get_session, reads_only
from course.learn.forms import CompleteForm
from course.learn.progress_rows import progress_sections
from course.page_cache import same_for_every_visitor
from course.services import progress
from course.services.attempts import reads as attempt_reads
from course.services.standing import Certificate, CourseStanding, StepState, course_standing
from course.site import get_course, step_url

bp = Blueprint("learn", __name__)


def _standing() -> tuple[dict[str, attempt_reads.Summary], CourseStanding | None]:
    """The learner's summaries and standing (one query); None for a visitor."""
    if not current_user.is_authenticated:
        return {}, None
    done, summaries = attempt_reads.learner_progress(get_session(), current_user.id, get_course())
    return summaries, course_standing(get_course(), done, summaries)


def _new_feedback() -> set[str]:
    """Exercises with feedback the learner has not opened (My progress; the header's
    badge counts them), read with the sign-in (course.services.sign_ins.SignedIn)."""
    if current_user.is_authenticated and not current_user.is_instructor:
        found: set[str] = current_user.new_feedback
        return found
    return set()


def _state_html(state: StepState, label: str) -> Markup:
    css, symbol = {StepState.PASSED: ("status-done", "✓"),
                   StepState.DONE_NOT_PASSED: ("status-fail", "✗"),
                   StepState.AWAITING_REVIEW: ("status-pending", "◷"),
                   StepState.IN_PROGRESS: ("status-pending", "◐"),
                   StepState.NOT_STARTED: ("status-todo", "○")}[state]
    return Markup(  # nosec B704  # fixed markup; the label is escaped
        f'<span class="status {css}"><span aria-hidden="true">{symbol} </span>'
        f"{escape(label)}</span>")


# (state, is a lesson) -> its markup, written once: My progress shows one per step.
_STATES = {(state, lesson): _state_html(state, "Done" if lesson and state == StepState.PASSED
                                        else state.label)
           for state in StepState for lesson in (False, True)}


@bp.app_template_global()
def step_state(step: Step, state: StepState) -> Markup:
    """A step's state for a learner (services.standing.StepState), in words and a symbol."""
    return _STATES[(state, step.kind == "lesson")]


@bp.get("/")
@reads_only
@same_for_every_visitor
def home() -> ResponseReturnValue:
    _, where = _standing()
    return render_template("learn/home.html", standing=where, StepState=StepState)


@bp.get("/lessons/<step_id>")
@reads_only
@same_for_every_visitor
def lesson(step_id: str) -> ResponseReturnValue:
    course = get_course()
    lesson = course.lesson(step_id) or abort(404)
    previous, following = course.neighbours(step_id)
    done = current_user.is_authenticated and progress.is_complete(
        get_session(), current_user.id, step_id)
    # Only a signed-in learner gets the form (a CompleteForm's fields, written by the
    # template): a visitor's would mint a CSRF token, so a session cookie, on every
    # anonymous page view.
    return render_template("learn/lesson.html", lesson=lesson, previous=previous,
                           following=following, done=done)


@bp.post("/lessons/<step_id>/complete")
@login_required
def toggle_complete(step_id: str) -> ResponseReturnValue:
    lesson = get_course().lesson(step_id) or abort(404)
    form = CompleteForm()
    if not form.validate():
        abort(400)
    done = form.done.data == "1"
    progress.set_complete(get_session(), current_user.id, step_id, done)
    if not done:
        flash("Marked as not complete.", "success")
        return redirect(url_for("learn.lesson", step_id=step_id))
    # Done with this lesson: carry on with the next step rather than reload this one.
    _, following = get_course().neighbours(step_id)
    flash(f"Marked \u201c{lesson.title}\u201d as complete.", "success")
    return redirect(step_url(following) if following else url_for("learn.completion"))


@bp.get("/progress")
@reads_only
@login_required
def my_progress() -> ResponseReturnValue:
    summaries, where = _standing()
    return render_template("learn/progress.html", standing=where, summaries=summaries,
                           StepState=StepState, Certificate=Certificate,
                           new_feedback=_new_feedback(),
                           sections=progress_sections())
