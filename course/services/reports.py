"""What instructors read about the whole cohort: dashboard, gradebook (and its CSV), misconceptions.

Every function takes a Session and the Course and runs a fixed number of SQL queries,
however many learners or attempts there are, so the pages stay fast at 100,000 attempts.
Which attempt counts follows each exercise's policy (see `counted_attempt` in
course.services.attempts for the same rule in Python); here it is grouped subqueries that
SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from course.content.schema import Course, Exercise
from course.grading import registry
from course.grading.base import Verdict
from course.models import Attempt, Role, StepProgress, User
from course.models.attempt import AttemptStatus

AWAITING = AttemptStatus.AWAITING_REVIEW.value
AUTO_GRADED = AttemptStatus.AUTO_GRADED.value


# ------------------------------------------------------------------- counted scores


def _counted(course: Course, user_ids: Sequence[int] | None = None) -> Any:
    """A subquery of one row per (learner, exercise) tried: user_id, exercise_id, the
    counted score (NULL while nothing is scored, i.e. awaiting review) and passed (0/1).

    "highest" exercises take max(score) per learner, so a retry never lowers a grade
    (and they passed if any attempt passed); "latest" ones take the attempt with the
    highest number among the scored ones, joined back through a grouped subquery. Plain
    GROUP BY on the (user_id, exercise_id, number) index: no window functions, and about
    twice as fast as one on SQLite.
    """
    def scoped(query: Select[Any], exercise_ids: list[str]) -> Select[Any]:
        query = query.where(Attempt.exercise_id.in_(exercise_ids))
        if user_ids is not None:
            query = query.where(Attempt.user_id.in_(user_ids))
        return query.group_by(Attempt.user_id, Attempt.exercise_id)

    highest = [e.id for e in course.exercises if e.policy.counts != "latest"]
    latest = [e.id for e in course.exercises if e.policy.counts == "latest"]
    parts = []
    if highest:
        parts.append(scoped(select(
            Attempt.user_id, Attempt.exercise_id, func.max(Attempt.score).label("score"),
            func.max(case((Attempt.passed, 1), else_=0)).label("passed")), highest))
    if latest:
        last = scoped(select(
            Attempt.user_id, Attempt.exercise_id,
            func.max(case((Attempt.score.is_not(None), Attempt.number))).label("number")),
            latest).subquery("last_scored")
        counted = aliased(Attempt)
        parts.append(
            select(last.c.user_id, last.c.exercise_id, counted.score.label("score"),
                   case((counted.passed, 1), else_=0).label("passed"))
            .select_from(last.outerjoin(counted, and_(
                counted.user_id == last.c.user_id, counted.exercise_id == last.c.exercise_id,
                counted.number == last.c.number))))
    if not parts:  # a course without exercises: an empty result of the same shape
        parts.append(select(Attempt.user_id, Attempt.exercise_id, Attempt.score,
                            case((Attempt.passed, 1), else_=0).label("passed")).where(false()))
    return union_all(*parts).subquery("counted") if len(parts) > 1 \
        else parts[0].subquery("counted")


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
    and how many attempts await review (two GROUP BY queries).

    The mean is over learners with a scored counted attempt; the pass rate is learners
    whose counted attempt passed over every learner who tried, so work still awaiting
    review lowers the rate until it is graded rather than vanishing from it.
    """
    totals = {row.exercise_id: row for row in session.execute(
        select(Attempt.exercise_id, func.count().label("attempts"),
               func.sum(case((Attempt.status == AWAITING, 1), else_=0)).label("awaiting"))
        .group_by(Attempt.exercise_id))}
    counted = _counted(course)
    per_learner = {row.exercise_id: row for row in session.execute(
        select(counted.c.exercise_id, func.count().label("learners"),
               func.avg(counted.c.score).label("mean"),
               func.sum(counted.c.passed).label("passed"))
        .group_by(counted.c.exercise_id))}
    stats = []
    for exercise in course.exercises:
        total, learners = totals.get(exercise.id), per_learner.get(exercise.id)
        if total is None or learners is None:
            stats.append(ExerciseStats(exercise))
            continue
        stats.append(ExerciseStats(
            exercise, attempts=total.attempts, learners=learners.learners,
            mean_score=float(learners.mean) if learners.mean is not None else None,
            pass_rate=int(learners.passed or 0) / learners.learners,
            awaiting_review=int(total.awaiting or 0)))
    return stats


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


@dataclass(frozen=True)
class GradebookPage:
    exercises: tuple[Exercise, ...]
    rows: list[GradebookRow]
    page: int
    page_size: int
    learners: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.learners / self.page_size))


def _learners() -> Select[Any]:
    return (select(User.id, User.display_name, User.email)
            .where(User.role == Role.LEARNER.value)
            .order_by(User.display_name, User.id))


def _rows(session: Session, course: Course, users: Sequence[Any]) -> list[GradebookRow]:
    """Gradebook lines for `users` (rows of id, display_name, email): two queries."""
    ids = [u.id for u in users]
    counted = _counted(course, ids)
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for row in session.execute(select(counted.c.user_id, counted.c.exercise_id,
                                      counted.c.score)):
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


def gradebook(session: Session, course: Course, page: int = 1,
              page_size: int = 50) -> GradebookPage:
    """One page of learners (by display name, then id) with their counted scores.

    Four queries whatever the page: the learner count, the page of learners, their counted
    scores and their completed steps. A page past the end is empty rather than an error.
    """
    page = max(1, page)
    learners = session.scalar(select(func.count()).select_from(
        _learners().order_by(None).subquery())) or 0
    users = list(session.execute(_learners().limit(page_size)
                                 .offset((page - 1) * page_size)))
    rows = _rows(session, course, users) if users else []
    return GradebookPage(course.exercises, rows, page, page_size, learners)


# ---------------------------------------------------------------------- CSV export

# OWASP's characters that make a spreadsheet read a cell as a formula (= + - @ tab CR),
# after the start of the cell or of any piece a spreadsheet could cut it into (splitting on a
# comma or semicolon, or at a line break, whether or not it honours the quotes), then any
# spaces or quotes, then a formula character: a single quote goes just before that.
_FORMULA_PIECE = re.compile(r'((?:^|[,;\r\n])[ "]*)(?=[=+\-@\t\r])')


def neutralise(cell: str) -> str:
    """Make every piece of a cell that a spreadsheet could run as a formula start with a
    single quote, so it is shown as text.

    Names and emails are typed by learners: '=HYPERLINK(...)' must arrive as text, and so
    must `x;=cmd|' /C calc'!A0;` in a spreadsheet that splits on semicolons.
    """
    return _FORMULA_PIECE.sub(r"\1'", cell)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def gradebook_csv(session: Session, course: Course,
                  batch_size: int = 500) -> Iterator[list[str]]:
    """The whole gradebook as CSV rows (header first), every learner, read in batches.

    Learners are fetched by keyset on (display name, id), three queries per batch, so
    memory stays flat however large the cohort. Scores are percentages with one decimal;
    an empty cell means not tried or awaiting review.
    """
    exercises = course.exercises
    yield (["learner_id", "name", "email"] + [e.id for e in exercises]
           + ["total", "completion"])
    after: tuple[str, int] | None = None
    while True:
        query = _learners().limit(batch_size)
        if after is not None:
            query = query.where(tuple_(User.display_name, User.id) > tuple_(*after))
        users = list(session.execute(query))
        if not users:
            return
        for row in _rows(session, course, users):
            yield [str(row.user_id), neutralise(row.name), neutralise(row.email),
                   *(_pct(row.scores.get(e.id)) for e in exercises),
                   _pct(row.total), _pct(row.completion)]
        after = (users[-1].display_name, users[-1].id)


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


@dataclass(frozen=True)
class ItemStat:
    """How the cohort answered one item, card or question.

    `correct_share` is over the attempts that answered it. `wrong` is the most common
    wrong bucket, column or option (its label) with its share of those attempts, or None
    when nobody got it wrong.
    """

    id: str
    text: str
    answered: int
    correct_share: float
    wrong: str | None = None
    wrong_share: float = 0.0


@dataclass(frozen=True)
class ExerciseMisconceptions:
    exercise: Exercise
    attempts: int
    items: list[ItemStat] = field(default_factory=list)


class _Tally:
    """Counts for one item while the attempts stream past."""

    __slots__ = ("answered", "correct", "wrong")

    def __init__(self) -> None:
        self.answered = 0
        self.correct = 0
        self.wrong: Counter[str] = Counter()


def _tally(verdicts: Iterable[Verdict], times: int, tallies: dict[str, _Tally]) -> None:
    """Count one distinct answer, given `times` times, from the kind's verdicts on it."""
    for verdict in verdicts:
        tally = tallies[verdict.item_id]
        tally.answered += times
        if verdict.correct:
            tally.correct += times
        for mistake in verdict.mistakes:
            tally.wrong[mistake] += times


def misconceptions(session: Session, course: Course,
                   batch_size: int = 2000) -> list[ExerciseMisconceptions]:
    """Per auto-graded exercise (course order), its items worst-understood first.

    One streamed query: the database counts identical stored answers (GROUP BY the
    answer's text; many learners give the same answer), and each distinct answer is
    decoded and tallied once in Python, weighted by its count. Extracting every item with
    SQL JSON functions was ten times slower on SQLite and is written differently on
    PostgreSQL. Items are judged against the answer key as it is now, so a corrected key
    shows at once.
    """
    exercises = [e for e in course.exercises if e.auto_graded]
    by_id = {e.id: e for e in exercises}
    tallies: dict[str, dict[str, _Tally]] = {e.id: defaultdict(_Tally) for e in exercises}
    attempts: Counter[str] = Counter()
    answer_text = cast(Attempt.answer, Text)
    rows = session.execute(
        select(Attempt.exercise_id, answer_text, func.count())
        .where(Attempt.status == AUTO_GRADED, Attempt.exercise_id.in_(list(by_id)))
        .group_by(Attempt.exercise_id, answer_text)
        .execution_options(yield_per=batch_size))
    for exercise_id, text, times in rows:
        attempts[exercise_id] += times
        exercise = by_id[exercise_id]
        _tally(registry.kind_of(exercise).classify(exercise.spec, json.loads(text)), times,
               tallies[exercise_id])

    report = []
    for exercise in exercises:
        kind = registry.kind_of(exercise)
        texts = kind.item_texts(exercise.spec)
        items = []
        for item_id, tally in tallies[exercise.id].items():
            if not tally.answered:
                continue
            wrong, wrong_count = (tally.wrong.most_common(1) or [(None, 0)])[0]
            label = (kind.mistake_label(exercise.spec, item_id, wrong)
                     if wrong is not None else None)
            items.append(ItemStat(
                id=item_id, text=texts[item_id], answered=tally.answered,
                correct_share=tally.correct / tally.answered, wrong=label,
                wrong_share=wrong_count / tally.answered))
        items.sort(key=lambda i: (i.correct_share, -i.wrong_share, i.id))
        report.append(ExerciseMisconceptions(exercise, attempts[exercise.id], items))
    return report
