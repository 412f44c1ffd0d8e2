"""The end of the course: the learner's results per section and their certificate.

The certificate page is public on purpose: its address is the verification link printed
on it, so an employer can open it without an account. It names an issued record by its
random id (services.certificates); an unknown id is a 404 and a revoked one a 410, each
with a page that says plainly the certificate is not valid.
"""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from course.db import get_session
from course.learn.views import bp
from course.models import Certificate
from course.services import certificates, standing
from course.services.attempts import reads as attempt_reads
from course.services.standing import StepState, course_standing, section_results
from course.site import get_course

# Longer than any id we issue: anything past this is not looked up at all.
MAX_PUBLIC_ID = 64


@bp.get("/complete")
@login_required
def completion() -> ResponseReturnValue:
    """The results; for a learner who has finished, the certificate too, issued the first
    time they come here."""
    course, session = get_course(), get_session()
    done, summaries = attempt_reads.learner_progress(session, current_user.id, course)
    where = course_standing(course, done, summaries)
    return render_template("learn/completion.html", standing=where, StepState=StepState,
                           Certificate=standing.Certificate,
                           results=section_results(course, where, summaries),
                           certificate=_certificate(where.certificate))


def _certificate(due: standing.Certificate) -> Certificate | None:
    """The learner's certificate: one issued before (kept even if a later change means
    they no longer earn it: services.certificates), or issued now when earned."""
    session = get_session()
    existing = certificates.of_learner(session, current_user.id)
    if existing is not None or due is not standing.Certificate.EARNED:
        return existing
    done = certificates.earned(session, get_course(), current_user.id)
    return (certificates.issue(session, get_course(), current_user.id, done)
            if done is not None else None)


@bp.get("/certificates/<public_id>")
def certificate(public_id: str) -> ResponseReturnValue:
    """Anyone with the link sees the certificate as issued; an unknown id is "not
    found" (404), a revoked certificate "gone" (410), both on a "not valid" page."""
    found = (certificates.by_public_id(get_session(), public_id)
             if len(public_id) <= MAX_PUBLIC_ID else None)
    if found is None or found.revoked_at is not None:
        return render_template("learn/certificate_invalid.html", revoked=found), \
            404 if found is None else 410
    return render_template("learn/certificate.html", certificate=found)
