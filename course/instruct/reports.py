"""Cohort reports: the gradebook (as a page and a CSV download) and misconceptions."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from course.db import get_engine, get_session
from course.instruct.blueprint import bp
from course.models.timestamps import utcnow
from course.services import reports
from course.site import get_course

# Far beyond any cohort; keeps a typed-in page number from overflowing the SQL OFFSET.
MAX_PAGE = 100_000


@bp.get("/gradebook")
def gradebook() -> ResponseReturnValue:
    """Learners by exercises, one page at a time; a page past the end is a 404."""
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    book = reports.gradebook(get_session(), get_course(), page,
                             current_app.config["GRADEBOOK_PAGE_SIZE"])
    if page > book.pages:
        abort(404)
    return render_template("instruct/gradebook.html", book=book)


@bp.get("/gradebook.csv")
def gradebook_csv() -> ResponseReturnValue:
    """Every learner, streamed: rows are written as they are read, in batches.

    The stream runs after the request's teardown has closed the request's session, so it
    reads through a session of its own, closed when the download ends or is abandoned.
    """
    course = get_course()
    session = Session(get_engine())

    def chunks() -> Iterator[str]:
        try:
            yield from reports.csv_text(reports.gradebook_csv(session, course))
        finally:
            session.close()

    filename = f"gradebook-{utcnow():%Y-%m-%d}.csv"
    return Response(chunks(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/misconceptions")
def misconceptions() -> ResponseReturnValue:
    """Per auto-graded exercise, the items the cohort gets wrong most, worst first."""
    report = reports.misconceptions(get_session(), get_course())
    return render_template("instruct/misconceptions.html", report=report)
