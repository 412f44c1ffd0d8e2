"""The instructor's landing page: how each exercise is going, at a glance."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from course.db import get_session
from course.instruct.blueprint import bp
from course.services import reports
from course.site import get_course


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Per exercise: attempts, learners, mean counted score, pass rate, awaiting review."""
    session, course = get_session(), get_course()
    return render_template("instruct/dashboard.html", stats=reports.dashboard(session, course),
                           distributions=reports.score_distributions(session, course))
