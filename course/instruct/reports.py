"""Cohort reports: the gradebook (as a page and a CSV download), misconceptions and
activity over time."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.db import get_engine, get_session
from course.instruct.blueprint import bp
from course.models.timestamps import utcnow
from course.services.reports import activity as activity_report
from course.services.reports import gradebook as gradebook_report
from course.services.reports import gradebook_csv as csv_report
from course.services.reports import misconceptions as misconception_report
from course.site import get_course, latest_copy

# Far beyond any cohort; keeps a typed-in page number from overflowing the SQL OFFSET.
MAX_PAGE = 100_000


# Longer than any name or address (a filter is matched against both).
MAX_FILTER = 254


def _view() -> tuple[gradebook_report.GradebookSort, str]:
    """The order and the learner filter the page and the CSV were asked for (`sort`,
    `dir`, `learner`); an unknown column sorts by name, as a mangled link should."""
    sort = gradebook_report.GradebookSort.parse(get_course(), request.args.get("sort"),
                                                request.args.get("dir"))
    return sort, request.args.get("learner", "").strip()[:MAX_FILTER]


def _learner_id(name: str) -> int | None:
    """A page link's learner (`after` or `before`); anything but an account id is ignored
    and the page counted from the start instead."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


@bp.get("/gradebook")
def gradebook() -> ResponseReturnValue:
    """Learners by exercises, one page at a time (Next and Previous name the learner the
    page starts after or ends before), sorted by any column and filtered by name or
    email; a page past the end is a 404."""
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    sort, learner = _view()
    book = gradebook_report.gradebook(get_session(), get_course(), page,
                                      current_app.config["GRADEBOOK_PAGE_SIZE"], sort,
                                      learner, after=_learner_id("after"),
                                      before=_learner_id("before"))
    if page > book.pages:
        abort(404)
    view = {**sort.query_args(), **({"learner": learner} if learner else {})}
    return render_template("instruct/gradebook.html", book=book, view=view)


@bp.get("/gradebook.csv")
def gradebook_csv() -> ResponseReturnValue:
    """Every learner (matching the page's filter, in its order), streamed: rows are
    written as they are read, in batches.

    The stream runs after the request's teardown has closed the request's session, so it
    reads through a session of its own, closed when the download ends or is abandoned.
    """
    course = get_course()
    sort, learner = _view()
    session = Session(get_engine())

    def chunks() -> Iterator[str]:
        try:
            yield from csv_report.csv_text(csv_report.gradebook_csv(
                session, course, sort=sort, learner_filter=learner))
        finally:
            session.close()

    filename = f"gradebook-{utcnow():%Y-%m-%d}.csv"
    return Response(chunks(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/misconceptions")
def misconceptions() -> ResponseReturnValue:
    """Per auto-graded exercise, the items the cohort gets wrong most, worst first."""
    course = get_course()
    counts = misconception_report.misconception_counts(get_session(), course)
    exercises = [e for e in course.exercises if e.auto_graded]
    return render_template(
        "instruct/misconceptions.html", exercises=exercises,
        report=Markup("").join(_misconceptions_of(e, counts[e.id]) for e in exercises))


def _misconceptions_of(exercise: Exercise,
                       counts: misconception_report.ExerciseCounts) -> Markup:
    """One exercise's part of the report, rendered again only when its counts differ
    from those of this worker's copy.

    Drawing a bar and a table for every item is most of the page's work, while each
    exercise's part is a function of its few dozen maintained counts and the course
    (loaded once per app): reading the counts is all a request needs when nothing was
    submitted, reviewed or regraded since, and a submission changes one exercise's.
    Links depend on the mount point, which is in the key too. Not kept in debug, where
    templates change under the developer's hands.
    """

    def draw() -> Markup:
        html = render_template("instruct/_misconceptions.html",
                               ex=misconception_report.exercise_misconceptions(exercise, counts))
        return Markup(html)  # nosec B704  # an autoescaping template's output, kept as such

    return latest_copy("course_misconceptions_report", exercise.id,
                       (request.script_root, counts), draw)


@bp.get("/activity")
def activity() -> ResponseReturnValue:
    """Attempts and exercises completed per day over the last few weeks; another span
    than those offered is a 404."""
    weeks = request.args.get("weeks", activity_report.ACTIVITY_WEEKS[0], type=int)
    if weeks not in activity_report.ACTIVITY_WEEKS:
        abort(404)
    return render_template("instruct/activity.html", weeks=weeks,
                           spans=activity_report.ACTIVITY_WEEKS,
                           activity=activity_report.activity(get_session(), get_course(),
                                                             weeks))
