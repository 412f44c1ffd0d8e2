"""Submissions: the queue, one submission with its review form, and regrade.

Views check a form, call one service and render or redirect; what is shown and what is
stored is decided in `services.submissions` and `services.review`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from course.db import get_session
from course.instruct.blueprint import bp
from course.instruct.forms import STATUS_LABELS, QueueFilterForm, RegradeForm, ReviewForm
from course.services import attempts as attempt_service
from course.services import review as review_service
from course.services.submissions import (
    BadCursor,
    Cursor,
    QueueFilters,
    SubmissionDetail,
    submission_detail,
    submissions_page,
)
from course.site import get_course

CONFLICT_MESSAGE = ("Another instructor saved this submission while you were editing. "
                    "Their changes are shown below; review them and save again.")


@bp.get("/submissions")
def submissions():
    course = get_course()
    form = QueueFilterForm(course.exercises, formdata=request.args)
    if not form.validate():
        return render_template("instruct/submissions.html", form=form, page=None,
                               filters={}, status_labels=STATUS_LABELS), 400
    filters = QueueFilters(exercise_id=form.exercise.data or None,
                           status=form.status.data or None,
                           learner=form.learner.data or None)
    try:
        after, before = (Cursor.parse(request.args[name]) if request.args.get(name) else None
                         for name in ("after", "before"))
    except BadCursor:
        abort(400, "This page link is broken; start again from the first page.")
    page = submissions_page(get_session(), filters, current_app.config["QUEUE_PAGE_SIZE"],
                            after=after, before=before)
    exercise = course.exercise(filters.exercise_id) if filters.exercise_id else None
    return render_template(
        "instruct/submissions.html", form=form, page=page, status_labels=STATUS_LABELS,
        filters={k: v for k, v in request.args.items() if k in form and v},
        filtered_exercise=exercise, regrade_form=RegradeForm())


def _review_data(detail: SubmissionDetail) -> dict[str, Any]:
    """The review form as the attempt stands: a second save changes only what is edited."""
    attempt = detail.attempt
    data: dict[str, Any] = {"revision": attempt.revision,
                            "feedback": attempt.instructor_feedback or ""}
    if attempt.overridden and attempt.score is not None:
        percent = round(attempt.score * 100, 2)
        data["override"] = int(percent) if percent.is_integer() else percent
        data["reason"] = next((c.reason for c in reversed(detail.history)
                               if c.kind == "override"), "")
    for criterion_id, points in (attempt.rubric or {}).get("levels", {}).items():
        data[f"rubric-{criterion_id}"] = points
    return data


def _render_submission(detail: SubmissionDetail, form: ReviewForm, status: int = 200,
                       problems: list[str] | None = None, conflict: str | None = None,
                       draft: str | None = None):
    exercise = get_course().exercise(detail.attempt.exercise_id)
    return render_template(
        "instruct/submission.html", detail=detail, attempt=detail.attempt, exercise=exercise,
        report=(attempt_service.attempt_report(
            exercise, detail.attempt, attempt_service.Standing.of(detail.attempts),
            reveal=True) if exercise else None), form=form,
        problems=problems or [], conflict=conflict, draft=draft,
        status_labels=STATUS_LABELS), status


def _detail_or_404(attempt_id: int) -> SubmissionDetail:
    return submission_detail(get_session(), attempt_id) or abort(404)


@bp.get("/submissions/<id:attempt_id>")
def submission(attempt_id: int):
    detail = _detail_or_404(attempt_id)
    exercise = get_course().exercise(detail.attempt.exercise_id)
    form = ReviewForm.for_exercise(exercise, formdata=None, data=_review_data(detail))
    return _render_submission(detail, form)


@bp.post("/submissions/<id:attempt_id>")
def save_review(attempt_id: int):
    detail = _detail_or_404(attempt_id)
    course = get_course()
    form = ReviewForm.for_exercise(course.exercise(detail.attempt.exercise_id))
    if not form.validate():
        return _render_submission(detail, form, 400)
    try:
        review_service.save_review(
            get_session(), attempt_id, current_user.id, form.revision.data,
            form.rubric_levels(), form.feedback.data or "", form.override_score(),
            form.reason.data or "", course=course)
    except review_service.ReviewInvalid as invalid:
        return _render_submission(detail, form, 400, problems=invalid.problems)
    except review_service.ReviewConflict:
        fresh = _detail_or_404(attempt_id)
        theirs = ReviewForm.for_exercise(course.exercise(fresh.attempt.exercise_id),
                                         formdata=None, data=_review_data(fresh))
        return _render_submission(fresh, theirs, 409, conflict=CONFLICT_MESSAGE,
                                  draft=form.feedback.data or None)
    flash("Review saved. The learner will see it on their attempt page.", "success")
    return redirect(url_for("instruct.submission", attempt_id=attempt_id), 303)


@bp.post("/exercises/<exercise_id>/regrade")
def regrade(exercise_id: str):
    exercise = get_course().exercise(exercise_id) or abort(404)
    if not RegradeForm().validate():
        abort(400)
    try:
        report = review_service.regrade_exercise(get_session(), exercise, current_user.id)
    except review_service.NothingToRegrade:
        abort(400, "Written assignments are graded by instructors; there is nothing to "
                   "regrade automatically.")
    return render_template("instruct/regrade.html", report=report)
