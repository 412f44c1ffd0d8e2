"""The instructor's landing page: how each exercise is going, at a glance."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from course.db import get_session
from course.instruct.blueprint import bp
from course.instruct.forms import BACK_TO_DASHBOARD, ReleaseForm
from course.services.reports import dashboard as dashboard_report
from course.services.reports import score_distribution
from course.site import get_course, latest_copy


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Per exercise: attempts, learners, mean counted score, pass rate, awaiting review,
    and the draft reviews waiting for release, which can be released from here."""
    session, course = get_session(), get_course()
    distributions = score_distribution.score_distributions(session, course)
    return render_template("instruct/dashboard.html",
                           stats=dashboard_report.dashboard(session, course),
                           charts=[_chart(d) for d in distributions if d.learners],
                           release_form=ReleaseForm(back=BACK_TO_DASHBOARD))


def _chart(distribution: score_distribution.Distribution) -> Markup:
    """One exercise's score-distribution chart, drawn again only when its counts differ
    from those of this worker's copy.

    Drawing the bars and their tables (an escaped value per cell) is most of the page's
    work, while each chart is a function of the exercise (loaded once per app) and its
    handful of maintained counts, which change only when a score does. It has no links,
    so the mount point does not matter. Not kept in debug, where templates change under
    the developer's hands (as the misconceptions report's parts).
    """
    exercise = distribution.exercise

    def draw() -> Markup:
        # A macro of an autoescaping template: it returns Markup.
        bar_chart: Callable[..., Markup] = current_app.jinja_env.get_template(
            "instruct/_charts.html").module.bar_chart  # type: ignore[attr-defined]
        return bar_chart(f"dist-{exercise.id}", exercise.title, distribution.rows,
                         distribution.most, "learners")

    return latest_copy("course_distribution_charts", exercise.id, distribution.counts, draw)
