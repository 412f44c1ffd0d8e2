"""What instructors read about the whole cohort: dashboard, gradebook (and its CSV), misconceptions.

Every function takes a Session and the Course and runs a fixed number of SQL queries,
however many learners or attempts there are. The dashboard and misconceptions read the
aggregates that course.services.aggregates keeps in step with every attempt, so their
cost is the same at a thousand attempts or a million; the gradebook reads each learner's
counted score there too.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from course.content.schema import Course, Exercise
from course.grading import registry
from course.grading.kind import ExerciseKind
from course.models import (
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerExercise,
    Role,
    StepProgress,
    User,
)
from course.models.timestamps import utcnow
from course.services import aggregates
from course.services.aggregates import BANDS, CORRECT, WRONG
from course.services.charts import StackedBar, stacked_bar

# ------------------------------------------------------------------------ dashboard


@dataclass(frozen=True)
class ExerciseStats:
    """One dashboard row. Means and rates are None when nobody is counted yet."""

    exercise: Exercise
    attempts: int = 0
    learners: int = 0
    mean_score: float | None = None
    pass_rate: float | None = None
    awaiting_review: int = 0


def dashboard(session: Session, course: Course) -> list[ExerciseStats]:
    """Per exercise, in course order: attempts, learners, mean counted score, pass rate,
    and how many attempts await review (one query on the maintained totals, so the cost
    is the same at a thousand attempts or a million).

    The mean is over learners with a scored counted attempt; the pass rate is learners
    whose counted attempt passed over every learner who tried, so work still awaiting
    review lowers the rate until it is graded rather than vanishing from it.
    """
    totals = {row.exercise_id: row for row in session.scalars(select(ExerciseTotals))}
    stats = []
    for exercise in course.exercises:
        total = totals.get(exercise.id)
        if total is None or not total.learners:
            stats.append(ExerciseStats(exercise))
            continue
        stats.append(ExerciseStats(
            exercise, attempts=total.attempts, learners=total.learners,
            mean_score=total.score_sum / total.scored if total.scored else None,
            pass_rate=total.passed / total.learners, awaiting_review=total.awaiting))
    return stats


# --------------------------------------------------------------- score distribution

SCORE_BANDS = ("0\u201319%", "20\u201339%", "40\u201359%", "60\u201379%", "80\u2013100%")
PENDING_BAND = "awaiting review"


@dataclass(frozen=True)
class Distribution:
    """How many learners' counted scores fall in each band (PENDING_BAND last: learners
    whose work an instructor has not graded yet)."""

    exercise: Exercise
    counts: tuple[tuple[str, int], ...]

    @property
    def learners(self) -> int:
        return sum(n for _, n in self.counts)

    @property
    def most(self) -> int:
        return max((n for _, n in self.counts), default=0)

    @property
    def rows(self) -> list[tuple[str, str, int]]:
        """(label, short label for under a bar, count)."""
        return [(label, "pending" if label == PENDING_BAND else label, n)
                for label, n in self.counts]


def score_distributions(session: Session, course: Course) -> list[Distribution]:
    """Per exercise, in course order, learners per score band: one query on the
    histogram kept in the exercises' totals, so its cost does not grow with the cohort."""
    totals = {row.exercise_id: row for row in session.scalars(select(ExerciseTotals))}
    labels = (*SCORE_BANDS, PENDING_BAND)
    distributions = []
    for exercise in course.exercises:
        total = totals.get(exercise.id)
        counts = ([getattr(total, band) for band in BANDS] + [total.learners - total.scored]
                  if total is not None else [0] * len(labels))
        distributions.append(Distribution(exercise, tuple(zip(labels, counts, strict=True))))
    return distributions


# ------------------------------------------------------------------- activity by day

ACTIVITY_WEEKS = (4, 8, 12)  # the spans the activity page offers


@dataclass(frozen=True)
class ActivityDay:
    """One UTC day: attempts submitted, and exercises completed (a learner's first
    passing attempt at an exercise, counted on the day it was submitted)."""

    day: date
    attempts: int = 0
    completions: int = 0


@dataclass(frozen=True)
class Activity:
    days: tuple[ActivityDay, ...]

    @property
    def attempts(self) -> int:
        return sum(d.attempts for d in self.days)

    @property
    def completions(self) -> int:
        return sum(d.completions for d in self.days)

    @property
    def bar_width(self) -> tuple[int, int]:
        """(bar, gap) so that any span draws about as wide as four weeks of days."""
        step = max(2, 336 // max(1, len(self.days)))
        gap = 2 if step >= 8 else 1
        return step - gap, gap

    def rows(self, column: str) -> list[tuple[str, str, int]]:
        """(day, a short label under the first day of each week, or of every second or
        third week on a longer span, count) for a bar chart."""
        every = 7 * max(1, len(self.days) // 28)
        return [(f"{d.day:%a} {d.day.day} {d.day:%b %Y}",
                 f"{d.day.day} {d.day:%b}" if n % every == 0 else "", getattr(d, column))
                for n, d in enumerate(self.days)]

    def most(self, column: str) -> int:
        return max((getattr(d, column) for d in self.days), default=0)


def activity(session: Session, course: Course, weeks: int = 4,
             today: date | None = None) -> Activity:
    """The last `weeks` weeks up to today (UTC), day by day, over the course's exercises.

    One grouped query on the maintained daily counts (course.services.aggregates), at
    most a row per day and exercise, so the cost is the same at a thousand attempts or a
    million.
    """
    last = today or utcnow().date()
    first = last - timedelta(days=weeks * 7 - 1)
    found = {day: (attempts, completions) for day, attempts, completions in session.execute(
        select(DailyActivity.day, func.sum(DailyActivity.attempts),
               func.sum(DailyActivity.completions))
        .where(DailyActivity.day >= first, DailyActivity.day <= last,
               DailyActivity.exercise_id.in_([e.id for e in course.exercises]))
        .group_by(DailyActivity.day))}
    days = []
    for n in range(weeks * 7):
        day = first + timedelta(days=n)
        attempts, completions = found.get(day, (0, 0))
        days.append(ActivityDay(day, int(attempts), int(completions)))
    return Activity(tuple(days))


# ------------------------------------------------------------------------ gradebook


@dataclass(frozen=True)
class GradebookRow:
    """One learner's line: counted score per exercise id (absent when never tried,
    None while awaiting review), the total over all exercises and step completion."""

    user_id: int
    name: str
    email: str
    scores: dict[str, float | None]
    total: float
    completion: float

    @property
    def awaiting_review(self) -> int:
        """Exercises whose only work waits for an instructor: 0 in the total until graded."""
        return sum(1 for score in self.scores.values() if score is None)


# Sort keys of the columns that are not exercises; an exercise's is "ex-" + its id (ids
# are lowercase words joined by hyphens, so the two never collide).
NAME, AWAITING, TOTAL, COMPLETION = "name", "awaiting", "total", "completion"
EXERCISE_PREFIX = "ex-"


@dataclass(frozen=True)
class GradebookColumn:
    """A column of the gradebook, the same on the page and in the CSV (the Learner column
    is three cells in the CSV: id, name and email)."""

    key: str  # its sort key in links
    label: str
    csv_headers: tuple[str, ...]
    exercise: Exercise | None = None


def gradebook_columns(course: Course) -> list[GradebookColumn]:
    """The gradebook's columns in page order; the CSV's header follows the same order."""
    return [GradebookColumn(NAME, "Learner", ("learner_id", "name", "email")),
            *(GradebookColumn(EXERCISE_PREFIX + e.id, e.title, (e.id,), e)
              for e in course.exercises),
            GradebookColumn(AWAITING, "Awaiting review", ("awaiting_review",)),
            GradebookColumn(TOTAL, "Total", ("total",)),
            GradebookColumn(COMPLETION, "Completion", ("completion",))]


@dataclass(frozen=True)
class GradebookSort:
    """Which column orders the learners and which way. Ties are always broken by name,
    then account id, so every learner has one place and pages never overlap."""

    key: str = NAME
    descending: bool = False

    @classmethod
    def parse(cls, course: Course, key: str | None, direction: str | None) -> GradebookSort:
        """From the page's `sort` and `dir`; anything unknown falls back to by name."""
        known = {c.key for c in gradebook_columns(course)}
        return cls(key if key in known else NAME, direction == "desc")

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    def query_args(self) -> dict[str, str]:
        """The URL arguments (none for the default, so plain links stay plain)."""
        return {} if self == GradebookSort() else {"sort": self.key, "dir": self.direction}

    def toggled(self, key: str) -> GradebookSort:
        """The order a column header's link asks for: the other way round when the table
        is already sorted by it, else that column ascending."""
        return GradebookSort(key, not self.descending if key == self.key else False)


@dataclass(frozen=True)
class GradebookPage:
    exercises: tuple[Exercise, ...]
    columns: list[GradebookColumn]
    rows: list[GradebookRow]
    page: int
    page_size: int
    learners: int  # matching the filter
    sort: GradebookSort = GradebookSort()
    learner_filter: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.learners / self.page_size))

    @property
    def first_id(self) -> int | None:
        """The first learner shown: the Previous link asks for the page before them."""
        return self.rows[0].user_id if self.rows else None

    @property
    def last_id(self) -> int | None:
        """The last learner shown: the Next link asks for the page after them."""
        return self.rows[-1].user_id if self.rows else None


_Query = Select[*tuple[Any, ...]]
# The columns kept on each account for the sorts that sum over a learner's exercises
# or steps (course.services.aggregates keeps them; indexed for both directions).
_KEPT_KEYS = {TOTAL: "score_sum", AWAITING: "awaiting", COMPLETION: "steps_done"}


def _sort_key(course: Course, sort: GradebookSort, query: _Query,
              user: Any = User) -> tuple[_Query, Any]:
    """The learners' query joined to what `sort` orders by, and that value (None when
    sorting by name), for `user` (the User entity or an alias of it). Every value is a
    number, never NULL: in an exercise's column, not attempted (-2) sorts below awaiting
    review (-1), below any score (0 to 1). Total, awaiting review and completion are
    read from the account, where they are kept, not summed on every page."""
    if sort.key.startswith(EXERCISE_PREFIX):
        mine = aliased(LearnerExercise)
        query = query.outerjoin(mine, (mine.user_id == user.id)
                                & (mine.exercise_id == sort.key[len(EXERCISE_PREFIX):]))
        return query, case((mine.user_id.is_(None), -2.0),
                           else_=func.coalesce(mine.score, -1.0))
    if sort.key in _KEPT_KEYS:
        return query, getattr(user, _KEPT_KEYS[sort.key])
    return query, None


class GradebookOrder:
    """The gradebook's learners in order as SQL (`query`), filtered only (`filtered`,
    for counting them), and the page after or before a learner (`beyond`).

    The order is the sort key either way, then name and account id ascending (by name:
    name and id, either way). Sorted by name, total, awaiting review or completion a
    page is an index range (ix_users_role_*), so a late page costs what the first does.
    """

    def __init__(self, course: Course, sort: GradebookSort, learner_filter: str = ""):
        query: _Query = select(User.id, User.display_name, User.email).where(
            User.role == Role.LEARNER.value)
        if learner_filter:
            query = query.where(User.display_name.icontains(learner_filter, autoescape=True)
                                | User.email.icontains(learner_filter, autoescape=True))
        self.course, self.sort = course, sort
        self.filtered = query
        self.base, self.key = _sort_key(course, sort, query)
        if self.key is not None:
            self.base = self.base.add_columns(self.key.label("sort_key"))
        self.query = self._ordered(self.base, backwards=False)

    def _ordered(self, query: _Query, backwards: bool) -> _Query:
        """`query` in the gradebook's order, or in exactly the reverse order."""
        return query.order_by(*self._order(self.key, User.display_name, User.id, backwards))

    def _order(self, key: Any, name: Any, ident: Any, backwards: bool) -> tuple[Any, ...]:
        """ORDER BY terms of the gradebook's order (or its reverse) over these columns."""
        descending = self.sort.descending != backwards
        if key is None:
            return (name.desc(), ident.desc()) if descending else (name, ident)
        ties = (name.desc(), ident.desc()) if backwards else (name, ident)
        return (key.desc() if descending else key, *ties)

    def beyond(self, learner_id: int, forward: bool, limit: int) -> _Query:
        """The `limit` learners just after `learner_id` in this order (`forward`), or just
        before it, nearest first. One statement: by name, one range of the index; by a
        sort key, the rest of the learner's tie (same key, later name) then the keys
        beyond it, each a range, at most 2 x `limit` rows to put in order. A learner
        who no longer exists has no neighbours."""
        mark = aliased(User)
        names_after = (self.sort.descending if self.key is None else False) != forward
        mark_name = select(mark.display_name).where(mark.id == learner_id).scalar_subquery()
        ties = tuple_(User.display_name, User.id)
        past_tie = ties > tuple_(mark_name, learner_id) if names_after else (
            ties < tuple_(mark_name, learner_id))
        if self.key is None:
            return self._ordered(self.base.where(past_tie), not forward).limit(limit)
        marked, mark_key = _sort_key(self.course, self.sort, select(mark.id), mark)
        mark_value = marked.where(mark.id == learner_id).with_only_columns(
            mark_key).scalar_subquery()
        up = self.sort.descending != (not forward)  # walking towards smaller keys
        same = self._ordered(self.base.where(self.key == mark_value, past_tie),
                             not forward).limit(limit).subquery()
        rest = self._ordered(self.base.where(self.key < mark_value if up
                                             else self.key > mark_value),
                             not forward).limit(limit).subquery()
        both = union_all(select(same), select(rest)).subquery()
        key, name, ident = both.c.sort_key, both.c.display_name, both.c.id
        return (select(ident, name, both.c.email, key)
                .order_by(*self._order(key, name, ident, not forward)).limit(limit))


def _rows(session: Session, course: Course, users: Sequence[Any]) -> list[GradebookRow]:
    """Gradebook lines for `users` (rows of id, display_name, email): two queries."""
    ids = [u.id for u in users]
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for row in session.execute(
            select(LearnerExercise.user_id, LearnerExercise.exercise_id, LearnerExercise.score)
            .where(LearnerExercise.user_id.in_(ids),
                   LearnerExercise.exercise_id.in_([e.id for e in course.exercises]))):
        scores[row.user_id][row.exercise_id] = row.score
    done = {user_id: n for user_id, n in session.execute(
        select(StepProgress.user_id, func.count())
        .where(StepProgress.user_id.in_(ids),
               StepProgress.step_id.in_([s.id for s in course.steps]))
        .group_by(StepProgress.user_id))}
    n_exercises, n_steps = len(course.exercises), len(course.steps)
    return [GradebookRow(
        user_id=u.id, name=u.display_name, email=u.email, scores=scores[u.id],
        total=(sum(s for s in scores[u.id].values() if s is not None) / n_exercises
               if n_exercises else 0.0),
        completion=done.get(u.id, 0) / n_steps if n_steps else 0.0) for u in users]


def gradebook(session: Session, course: Course, page: int = 1, page_size: int = 50,
              sort: GradebookSort = GradebookSort(), learner_filter: str = "",
              after: int | None = None, before: int | None = None) -> GradebookPage:
    """One page of learners in `sort`'s order (by name by default), with their counted
    scores; `learner_filter` keeps those whose name or email contains it.

    The page is the one just after learner `after`, or just before learner `before`
    (the page's Next and Previous links name the last and first learner shown), so it
    costs the same however deep it is; `page` is then only its number, for the reader.
    Without either, `page` is counted from the start (a page number typed in, or a
    neighbour who left: OFFSET, which grows with the page).

    Four queries whatever the page, the column sorted by or the filter (five when a
    page's neighbour left): the number of learners (kept by course.services.aggregates;
    counted when filtered), the page of learners, their counted scores and their
    completed steps. A page past the end is empty rather than an error.
    """
    page = max(1, page)
    order = GradebookOrder(course, sort, learner_filter)
    learners = (session.scalar(select(func.count()).select_from(order.filtered.subquery()))
                or 0) if learner_filter else aggregates.learner_count(session)
    users: list[Any] = []
    mark = after if after is not None else before
    if mark is not None:
        users = list(session.execute(order.beyond(mark, after is not None, page_size)))
        if before is not None:
            users.reverse()
    if not users:
        users = list(session.execute(order.query.limit(page_size)
                                     .offset((page - 1) * page_size)))
    rows = _rows(session, course, users) if users else []
    return GradebookPage(course.exercises, gradebook_columns(course), rows, page, page_size,
                         learners, sort, learner_filter)


# ---------------------------------------------------------------------- CSV export

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
                  sort: GradebookSort = GradebookSort(),
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
        for row in _rows(session, course, users):
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


# ------------------------------------------------------------------ misconceptions


OTHER_WRONG = "other wrong answers"


@dataclass(frozen=True)
class Segment:
    """One part of an item's stacked bar: where attempts put it (a bucket, column, place
    or option, by its label) and how many did; `right` marks the correct answer."""

    label: str
    count: int
    right: bool = False


@dataclass(frozen=True)
class ItemStat:
    """How the cohort answered one item, card or question.

    `correct_share` is over the attempts that answered it. `wrong` is the most common
    wrong bucket, column or option (its label) with its share of those attempts, or None
    when nobody got it wrong. `segments` is the stacked bar: right first, then each wrong
    place, most common first, then wrong answers no place explains (a multiple-choice
    answer that missed a correct option).
    """

    id: str
    text: str
    answered: int
    correct_share: float
    wrong: str | None = None
    wrong_share: float = 0.0
    segments: tuple[Segment, ...] = ()

    @property
    def bar_total(self) -> int:
        """What the bar's full length stands for: the attempts that answered the item, or
        more when a multiple-choice attempt ticked several wrong options (each counts)."""
        return max(self.answered, sum(s.count for s in self.segments))

    @property
    def bar(self) -> StackedBar:
        """The stacked bar as the page draws it, segment geometry and numbers included."""
        return stacked_bar(self.segments, self.bar_total, self.answered)


@dataclass(frozen=True)
class ExerciseMisconceptions:
    exercise: Exercise
    attempts: int
    items: list[ItemStat] = field(default_factory=list)

    @property
    def overlapping(self) -> bool:
        """Whether some attempt counts in more than one segment of a bar (several wrong
        options ticked), which the page then explains."""
        return any(i.bar_total > i.answered for i in self.items)


class _Tally:
    """Counts for one item, from its rows of ItemOutcome."""

    __slots__ = ("answered", "correct", "wrong")

    def __init__(self) -> None:
        self.answered = 0
        self.correct = 0
        self.wrong: Counter[str] = Counter()

    def add(self, outcome: str, count: int) -> None:
        if outcome == CORRECT:
            self.answered += count
            self.correct += count
        elif outcome == WRONG:
            self.answered += count
        else:
            self.wrong[outcome] += count


def _segments(kind: ExerciseKind, exercise: Exercise, item_id: str, tally: _Tally,
              ranked: Sequence[tuple[str, int]]) -> tuple[Segment, ...]:
    """The item's stacked bar: right, each wrong place (most common first), the rest."""
    segments = [Segment("right", tally.correct, right=True)]
    segments += [Segment(kind.mistake_label(exercise.spec, item_id, mistake), n)
                 for mistake, n in ranked if n > 0]
    unexplained = tally.answered - tally.correct - sum(n for _, n in ranked if n > 0)
    if unexplained > 0:
        segments.append(Segment(OTHER_WRONG, unexplained))
    return tuple(segments)


@dataclass(frozen=True)
class ExerciseCounts:
    """All one exercise's misconceptions are computed from: its maintained item counts
    (item, outcome, count, in key order) and its machine-graded attempts. Equal counts
    make the same report, so a rendered one can be kept for as long as its counts read
    back the same (a submission changes one exercise's)."""

    outcomes: tuple[tuple[str, str, int], ...] = ()
    attempts: int = 0


# Built once (see course/services/__init__.py) and run on the connection: plain rows, not
# ORM objects, hundreds of them on every view of the report.
_ITEM_OUTCOMES = (select(ItemOutcome.exercise_id, ItemOutcome.item_id, ItemOutcome.outcome,
                         ItemOutcome.count)
                  .where(ItemOutcome.exercise_id.in_(bindparam("ids", expanding=True)),
                         ItemOutcome.count > 0)
                  .order_by(ItemOutcome.exercise_id, ItemOutcome.item_id, ItemOutcome.outcome))
_AUTO_GRADED_ATTEMPTS = (select(ExerciseTotals.exercise_id, ExerciseTotals.auto_graded)
                         .where(ExerciseTotals.exercise_id.in_(bindparam("ids", expanding=True))))


def misconception_counts(session: Session, course: Course) -> dict[str, ExerciseCounts]:
    """Per auto-graded exercise id, its counts: two queries on the maintained counts
    (ItemOutcome, ExerciseTotals), a few rows per item however many attempts there are."""
    ids = [e.id for e in course.exercises if e.auto_graded]
    outcomes: dict[str, list[tuple[str, str, int]]] = {i: [] for i in ids}
    connection = session.connection()
    for exercise_id, item_id, outcome, count in connection.execute(_ITEM_OUTCOMES,
                                                                   {"ids": ids}):
        outcomes[exercise_id].append((item_id, outcome, count))
    attempts = {exercise_id: n for exercise_id, n in connection.execute(
        _AUTO_GRADED_ATTEMPTS, {"ids": ids})}
    return {i: ExerciseCounts(tuple(outcomes[i]), attempts.get(i, 0)) for i in ids}


def misconceptions(session: Session, course: Course) -> list[ExerciseMisconceptions]:
    """Per auto-graded exercise (course order), its items worst-understood first.

    Two queries on the maintained counts of each item's verdicts (ItemOutcome) and the
    exercises' totals, so the cost does not grow with the number of attempts. Verdicts
    are the kind's (`classify`) against the answer key as the attempt was last graded:
    after correcting a key, a regrade brings the report in line with the scores.
    """
    counts = misconception_counts(session, course)
    return [exercise_misconceptions(e, counts[e.id])
            for e in course.exercises if e.auto_graded]


def exercise_misconceptions(exercise: Exercise,
                            counts: ExerciseCounts) -> ExerciseMisconceptions:
    """One exercise's misconceptions from its counts (`misconception_counts`); no SQL."""
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for item_id, outcome, count in counts.outcomes:
        tallies[item_id].add(outcome, count)
    kind = registry.kind_of(exercise)
    texts = kind.item_texts(exercise.spec)
    items = []
    for item_id, tally in tallies.items():
        if not tally.answered or item_id not in texts:  # or an item since removed
            continue
        ranked = sorted(tally.wrong.items(), key=lambda pair: (-pair[1], pair[0]))
        wrong, wrong_count = ranked[0] if ranked else (None, 0)
        label = (kind.mistake_label(exercise.spec, item_id, wrong)
                 if wrong is not None else None)
        items.append(ItemStat(
            id=item_id, text=texts[item_id], answered=tally.answered,
            correct_share=tally.correct / tally.answered, wrong=label,
            wrong_share=wrong_count / tally.answered,
            segments=_segments(kind, exercise, item_id, tally, ranked)))
    items.sort(key=lambda i: (i.correct_share, -i.wrong_share, i.id))
    return ExerciseMisconceptions(exercise, counts.attempts, items)
