"""Learner views: validate, call one service, render or redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from course.db import get_session
from course.learn.forms import CompleteForm
from course.services import attempts, progress, review
from course.site import get_course

bp = Blueprint("learn", __name__)


def _completed() -> set[str]:
    if not current_user.is_authenticated:
        return set()
    return progress.completed_steps(get_session(), current_user.id)


@bp.get("/")
def home():
    return render_template("learn/home.html", completed=_completed())


@bp.get("/lessons/<step_id>")
def lesson(step_id: str):
    course = get_course()
    lesson = course.lesson(step_id) or abort(404)
    previous, following = course.neighbours(step_id)
    done = current_user.is_authenticated and progress.is_complete(
        get_session(), current_user.id, step_id)
    form = CompleteForm(done="0" if done else "1")
    return render_template("learn/lesson.html", lesson=lesson, previous=previous,
                           following=following, done=done, form=form)


@bp.post("/lessons/<step_id>/complete")
@login_required
def toggle_complete(step_id: str):
    get_course().lesson(step_id) or abort(404)
    form = CompleteForm()
    if not form.validate():
        abort(400)
    done = form.done.data == "1"
    progress.set_complete(get_session(), current_user.id, step_id, done)
    flash("Marked as complete." if done else "Marked as not complete.", "success")
    return redirect(url_for("learn.lesson", step_id=step_id))


@bp.get("/progress")
@login_required
def my_progress():
    completed = _completed()
    summaries = attempts.exercise_summaries(get_session(), current_user.id, get_course())
    return render_template("learn/progress.html", completed=completed, summaries=summaries,
                           new_feedback=review.exercises_with_new_feedback(
                               get_session(), current_user.id))
