"""The gradebook as a CSV download, streamed, with cells a spreadsheet cannot run.

It exists apart from the page because a download holds every learner matching the
filter (read in batches, so memory stays flat) and its cells, typed by learners, must
arrive in a spreadsheet as text, never as formulas.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator

from sqlalchemy.orm import Session

from course.content.schema import Course
from course.services.reports.gradebook import (
    BY_NAME,
    GradebookOrder,
    GradebookSort,
    gradebook_columns,
    gradebook_rows,
)

# OWASP's characters that make a spreadsheet read a cell as a formula (= + - @ tab CR),
# after the start of the cell or of any piece a spreadsheet could cut it into (splitting on a
# comma, semicolon or tab, or at a line break, whether or not it honours the quotes), then
# any spaces or quotes, then a formula character: a single quote goes just before that.
_FORMULA_PIECE = re.compile(r'((?:^|[,;\t\r\n])[ "]*)(?=[=+\-@\t\r])')


def neutralise(cell: str) -> str:
    """Make every piece of a cell that a spreadsheet could run as a formula start with a
    single quote, so it is shown as text (OWASP's CSV injection advice).

    Names and emails are typed by learners: '=HYPERLINK(...)' must arrive as text, and so
    must `x;=cmd|' /C calc'!A0;` in a spreadsheet that splits on semicolons and `X45<tab>=1+1`
    in one that splits on tabs. The cell is NFKC-normalised first, the form it comes out
    in: a spreadsheet may read the full-width equals sign (U+FF1D) as `=`, and so does the check.
    """
    return _FORMULA_PIECE.sub(r"\1'", unicodedata.normalize("NFKC", cell))


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


AWAITING_REVIEW = "awaiting review"


def _score_cell(scores: dict[str, float | None], exercise_id: str) -> str:
    """Empty when never tried, "awaiting review" while an instructor has not graded it
    (the page shows the same), else the percentage."""
    if exercise_id not in scores:
        return ""
    score = scores[exercise_id]
    return AWAITING_REVIEW if score is None else _pct(score)


def gradebook_csv(session: Session, course: Course, batch_size: int = 500,
                  sort: GradebookSort = BY_NAME,
                  learner_filter: str = "") -> Iterator[list[str]]:
    """The gradebook as CSV rows (header first): every learner matching the filter, in
    the page's order, read in batches.

    The learners come from one query in the page's order, streamed (a server-side
    cursor where the database has one) and taken `batch_size` at a time, with two more
    queries per batch for their scores and steps, so memory stays flat and no batch
    repeats the sort however large the cohort. The columns are the page's, in its
    order: scores are percentages with one decimal, an empty cell means not tried and
    "awaiting review" means an instructor has not graded it yet; `awaiting_review`
    counts those, which the total counts as 0 until they are graded.
    """
    exercises = course.exercises
    yield [header for column in gradebook_columns(course) for header in column.csv_headers]
    learners = session.execute(GradebookOrder(course, sort, learner_filter).query,
                               execution_options={"yield_per": batch_size})
    for users in learners.partitions():
        for row in gradebook_rows(session, course, users):
            yield [str(row.user_id), neutralise(row.name), neutralise(row.email),
                   *(_score_cell(row.scores, e.id) for e in exercises),
                   str(row.awaiting_review), _pct(row.total), _pct(row.completion)]


def csv_text(rows: Iterable[list[str]], rows_per_chunk: int = 200) -> Iterator[str]:
    """Write rows with the csv module (every cell quoted) into text chunks, starting with a BOM
    so that Excel reads the file as UTF-8 and accented names survive."""
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
