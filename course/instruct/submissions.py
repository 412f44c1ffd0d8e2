"""Submissions: the queue, one submission with its review form, and regrade.

Views check a form, call one service and render or redirect; what is shown and what is
stored is decided in `services.submissions`, `services.review`, `services.release`
and `services.regrade`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from course.db import get_session
from course.instruct.blueprint import bp
from course.instruct.forms import (
    STATUS_LABELS,
    QueueFilterForm,
    RegradeForm,
    ReleaseForm,
    ReviewForm,
)
from course.instruct.notify import queue_feedback_mail
from course.logs import AUDIT, get_logger
from course.mail import deliver_soon
from course.services import mail_queue
from course.services import regrade as regrade_service
from course.services import release as release_service
from course.services import review as review_service
from course.services.attempts import reads as attempt_reads
from course.services.attempts import report as attempt_page
from course.services.submissions import (
    DRAFT,
    BadCursor,
    Cursor,
    SubmissionDetail,
    queue_position,
    submission_detail,
    submissions_page,
)
from course.site import get_course

NOTHING_TO_REGRADE = ("Written assignments are graded by instructors; there is nothing to "
                      "regrade automatically.")
audit = get_logger(AUDIT)
CONFLICT_MESSAGE = ("Another instructor saved this submission while you were editing. "
                    "Their changes are shown below; review them and save again.")


def _queue_form(args: Any = None) -> QueueFilterForm:
    """The queue's filters from `args` (the request's by default); the work list when
    they are missing or broken, so a mangled link still leads somewhere useful."""
    course = get_course()
    form = QueueFilterForm(course.exercises, formdata=request.args if args is None else args)
    return form if form.validate() else QueueFilterForm(course.exercises, formdata=None)


@bp.get("/submissions")
def submissions() -> ResponseReturnValue:
    course = get_course()
    form = QueueFilterForm(course.exercises, formdata=request.args)
    if not form.validate():
        return render_template("instruct/submissions.html", form=form, page=None,
                               queue={}, status_labels=STATUS_LABELS), 400
    filters = form.filters()
    try:
        after, before = (Cursor.parse(request.args[name]) if request.args.get(name) else None
                         for name in ("after", "before"))
    except BadCursor:
        abort(400, "This page link is broken; start again from the first page.")
    session = get_session()
    page = submissions_page(session, filters, current_app.config["QUEUE_PAGE_SIZE"],
                            after=after, before=before)
    exercise = course.exercise(filters.exercise_id) if filters.exercise_id else None
    return render_template(
        "instruct/submissions.html", form=form, page=page, status_labels=STATUS_LABELS,
        queue=form.query_args(), filtered_exercise=exercise, action_form=ReleaseForm(),
        # Every draft of the course is offered only where the list shows them all.
        drafts=release_service.count_drafts(session, exercise.id if exercise else None)
        if exercise or (filters.status == DRAFT and not filters.learner) else 0,
        mail=mail_queue.waiting(session))


def _review_data(detail: SubmissionDetail) -> dict[str, Any]:
    """The review form as the attempt's current review stands (the draft, if any): a
    second save changes only what is edited."""
    attempt = detail.attempt
    current = review_service.current_review(attempt)
    data: dict[str, Any] = {"revision": attempt.revision, "feedback": current["feedback"] or ""}
    if current["overridden"] and current["score"] is not None:
        percent = round(current["score"] * 100, 2)
        data["override"] = int(percent) if percent.is_integer() else percent
        data["reason"] = current["reason"] or next(
            (c.reason for c in reversed(detail.history) if c.kind == "override"), "")
    for criterion_id, points in (current["rubric"] or {}).get("levels", {}).items():
        data[f"rubric-{criterion_id}"] = points
    return data


def _render_submission(detail: SubmissionDetail, form: ReviewForm, queue: QueueFilterForm,
                       status: int = 200, problems: list[str] | None = None,
                       conflict: str | None = None,
                       draft: str | None = None) -> ResponseReturnValue:
    exercise = get_course().exercise(detail.attempt.exercise_id)
    position = queue_position(get_session(), queue.filters(), detail.attempt)
    return render_template(
        "instruct/submission.html", detail=detail, attempt=detail.attempt, exercise=exercise,
        report=(attempt_page.attempt_report(
            exercise, detail.attempt, attempt_reads.Standing.of(detail.attempts),
            reveal=True) if exercise else None), form=form,
        problems=problems or [], conflict=conflict, draft=draft, position=position,
        queue=queue.query_args(), queue_form=queue, action_form=ReleaseForm(),
        current=review_service.current_review(detail.attempt),
        status_labels=STATUS_LABELS), status


def _announce(released: list[release_service.Released]) -> None:
    """Audit a committed release and start sending the emails it queued."""
    if released:
        audit.info("reviews released attempts=%s by=%s",
                   ",".join(str(r.attempt_id) for r in released), current_user.id)
        deliver_soon()


def _detail_or_404(attempt_id: int) -> SubmissionDetail:
    return submission_detail(get_session(), attempt_id) or abort(404)


@bp.get("/submissions/<id:attempt_id>")
def submission(attempt_id: int) -> ResponseReturnValue:
    detail = _detail_or_404(attempt_id)
    exercise = get_course().exercise(detail.attempt.exercise_id)
    form = ReviewForm.for_exercise(exercise, formdata=None, data=_review_data(detail))
    return _render_submission(detail, form, _queue_form())


@bp.post("/submissions/<id:attempt_id>")
def save_review(attempt_id: int) -> ResponseReturnValue:
    detail = _detail_or_404(attempt_id)
    course = get_course()
    queue = _queue_form()
    form = ReviewForm.for_exercise(course.exercise(detail.attempt.exercise_id))
    if not form.validate():
        return _render_submission(detail, form, queue, 400)
    try:
        saved = review_service.save_review(get_session(), attempt_id, current_user.id,
                                           form.revision.data or 0, form.review_input(),
                                           course=course, announce=queue_feedback_mail)
    except review_service.ReviewInvalid as invalid:
        return _render_submission(detail, form, queue, 400, problems=invalid.problems)
    except review_service.ReviewConflict:
        fresh = _detail_or_404(attempt_id)
        theirs = ReviewForm.for_exercise(course.exercise(fresh.attempt.exercise_id),
                                         formdata=None, data=_review_data(fresh))
        return _render_submission(fresh, theirs, queue, 409, conflict=CONFLICT_MESSAGE,
                                  draft=form.feedback.data or None)
    audit.info("review saved attempt=%s by=%s override=%s released=%s", attempt_id,
               current_user.id, form.review_input().override_score, saved.released is not None)
    if saved.released:
        _announce([saved.released])
        flash("Review saved and released: the learner can see it now.", "success")
    else:
        flash(Markup('Review saved as a draft: the learner sees nothing of it until it is '
                     'released. <a href="{}">Release it</a> or <a href="{}">see every draft '
                     'waiting for release</a>.').format(
            url_for("instruct.submission", attempt_id=attempt_id, **queue.query_args(),
                    _anchor="release-draft"),
            url_for("instruct.submissions", status=DRAFT, order="oldest")), "success")
    if request.form.get("then") != "next":
        return redirect(url_for("instruct.submission", attempt_id=attempt_id,
                                **queue.query_args()), 303)
    position = queue_position(get_session(), queue.filters(), saved.attempt)
    if position.next_id is None:
        flash("That was the last submission in this list.", "info")
        return redirect(url_for("instruct.submissions", **queue.query_args()), 303)
    return redirect(url_for("instruct.submission", attempt_id=position.next_id,
                            **queue.query_args()), 303)


@bp.post("/submissions/<id:attempt_id>/release")
def release_review(attempt_id: int) -> ResponseReturnValue:
    _detail_or_404(attempt_id)
    if not ReleaseForm().validate():
        abort(400)
    released = release_service.release_reviews(get_session(), current_user.id,
                                               course=get_course(), attempt_id=attempt_id,
                                               announce=queue_feedback_mail)
    if released:
        _announce(released)
        flash("Review released: the learner can see it now.", "success")
    else:
        flash("There was no draft review to release.", "info")
    return redirect(url_for("instruct.submission", attempt_id=attempt_id,
                            **_queue_form().query_args()), 303)


@bp.post("/exercises/<exercise_id>/release")
def release_exercise(exercise_id: str) -> ResponseReturnValue:
    exercise = get_course().exercise(exercise_id) or abort(404)
    form = ReleaseForm()
    if not form.validate():
        abort(400)
    released = release_service.release_reviews(get_session(), current_user.id,
                                               course=get_course(), exercise_id=exercise.id,
                                               announce=queue_feedback_mail)
    return _after_release(released, form, f" of “{exercise.title}”")


@bp.post("/drafts/release")
def release_all() -> ResponseReturnValue:
    """Every draft review of the course, from the dashboard or the queue of drafts."""
    form = ReleaseForm()
    if not form.validate():
        abort(400)
    released = release_service.release_reviews(get_session(), current_user.id,
                                               course=get_course(),
                                               announce=queue_feedback_mail)
    return _after_release(released, form, "")


def _after_release(released: list[release_service.Released], form: ReleaseForm,
                   of: str) -> ResponseReturnValue:
    """Announce a bulk release, say what it did, and go back where the button was."""
    _announce(released)
    count = len(released)
    flash(f"{count} review{'' if count == 1 else 's'}{of} released: the learners can see "
          f"{'it' if count == 1 else 'them'} now." if count
          else "There were no draft reviews to release.", "success" if count else "info")
    if form.to_dashboard:
        return redirect(url_for("instruct.dashboard"), 303)
    return redirect(url_for("instruct.submissions", **_queue_form().query_args()), 303)


@bp.get("/exercises/<exercise_id>/regrade")
def regrade_preview(exercise_id: str) -> ResponseReturnValue:
    exercise = get_course().exercise(exercise_id) or abort(404)
    try:
        report = regrade_service.preview_regrade(get_session(), exercise)
    except regrade_service.NothingToRegrade:
        abort(400, NOTHING_TO_REGRADE)
    return render_template("instruct/regrade_preview.html", report=report,
                           regrade_form=RegradeForm())


@bp.post("/exercises/<exercise_id>/regrade")
def regrade(exercise_id: str) -> ResponseReturnValue:
    exercise = get_course().exercise(exercise_id) or abort(404)
    if not RegradeForm().validate():
        abort(400)
    try:
        report = regrade_service.regrade_exercise(get_session(), exercise, current_user.id)
    except regrade_service.NothingToRegrade:
        abort(400, NOTHING_TO_REGRADE)
    audit.info("regrade exercise=%s by=%s regraded=%s changed=%s overrides_kept=%s",
               exercise_id, current_user.id, report.regraded, len(report.changed),
               len(report.kept))
    return render_template("instruct/regrade.html", report=report)
