"""The learner page: one learner's progress, attempts and reviews, for instructors."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from course.db import get_session
from course.instruct.blueprint import bp
from course.instruct.forms import STATUS_LABELS
from course.services.learners import learner_overview
from course.site import get_course


@bp.get("/learners/<id:user_id>")
def learner(user_id: int) -> ResponseReturnValue:
    overview = learner_overview(get_session(), get_course(), user_id) or abort(404)
    return render_template("instruct/learner.html", overview=overview,
                           status_labels=STATUS_LABELS)
