"""The end of the course: the learner's results per section and their certificate.

The certificate page is public on purpose: its address is the verification link printed
on it, so an employer can open it without an account.
"""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from course.db import get_session
from course.learn.views import bp
from course.services import attempts, certificates, progress
from course.services.standing import StepState, course_standing, section_results
from course.site import get_course


@bp.get("/complete")
@login_required
def completion() -> ResponseReturnValue:
    course = get_course()
    summaries = attempts.exercise_summaries(get_session(), current_user.id, course)
    where = course_standing(course, progress.completed_steps(get_session(), current_user.id),
                     summaries)
    token = (certificates.token_for(current_app.config["SECRET_KEY"], current_user.id)
             if where.finished else None)
    return render_template("learn/completion.html", standing=where, StepState=StepState,
                           results=section_results(course, where, summaries), token=token)


@bp.get("/certificates/<token>")
def certificate(token: str) -> ResponseReturnValue:
    """Anyone with the link sees the certificate; a wrong or stale link is "not found"."""
    user_id = certificates.user_id_from(current_app.config["SECRET_KEY"], token)
    found = (certificates.certificate_for(get_session(), get_course(), user_id)
             if user_id is not None else None)
    if found is None:
        abort(404)
    return render_template("learn/certificate.html", certificate=found, token=token,
                           StepState=StepState)
