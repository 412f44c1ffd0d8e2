"""What each kept row holds, worked out from the attempts.

The upkeep (course.services.aggregates.upkeep) and the rebuild
(course.services.aggregates.rebuild) both take a learner's row, its share of the
exercise's totals and score bands, an answer's item outcomes and an attempt's day from
here, so a row kept change by change and the same row rebuilt are computed alike. The
reports read the names the rows are counted under (CORRECT, WRONG, BANDS).
"""

from __future__ import annotations

import json
import typing
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Table, Text, and_, bindparam, case, cast, func, select
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.grading import registry
from course.models import Attempt, Base, LearnerExercise
from course.models.attempt import AttemptStatus

AWAITING = AttemptStatus.AWAITING_REVIEW.value
AUTO_GRADED = AttemptStatus.AUTO_GRADED.value
# Outcomes of an item besides the kinds' mistake classes (ids, which have no colon).
CORRECT = ":correct"
WRONG = ":wrong"
BATCH = 2000
# Lower edges of the score-distribution bands 1 to 4 (band 0 starts at 0): 0-19%, 20-39%,
# 40-59%, 60-79%, 80-100%, each counted in ExerciseTotals.band_<n>.
BAND_EDGES = (0.2, 0.4, 0.6, 0.8)
BANDS = tuple(f"band_{n}" for n in range(len(BAND_EDGES) + 1))


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as one (the declarative attribute is a plain FromClause)."""
    return typing.cast(Table, model.__table__)


EMPTY_LEARNER: dict[str, Any] = {"attempts": 0, "awaiting": 0, "auto_graded": 0,
                                 "first_passed_on": None,
                                 "score": None, "passed": False, "ever_passed": False}


def outcomes(exercise: Exercise, answer: Any) -> Counter[tuple[str, str]]:
    """(item id, outcome) -> 1 for what the kind's `classify` makes of one answer."""
    counts: Counter[tuple[str, str]] = Counter()
    for verdict in registry.kind_of(exercise).classify(exercise.spec, answer):
        counts[(verdict.item_id, CORRECT if verdict.correct else WRONG)] += 1
        for mistake in verdict.mistakes:
            counts[(verdict.item_id, mistake)] += 1
    return counts


# An attempt's UTC day (timestamps are stored as naive UTC), the same on both databases.
DAY = func.date(Attempt.created_at, type_=Date)


_LEARNER_COUNTS = select(
    Attempt.user_id, Attempt.exercise_id, func.count().label("attempts"),
    func.sum(case((Attempt.status == AWAITING, 1), else_=0)).label("awaiting"),
    func.sum(case((Attempt.status == AUTO_GRADED, 1), else_=0)).label("auto_graded"),
    func.max(Attempt.score).label("score"),
    func.max(case((Attempt.passed, 1), else_=0)).label("passed"),
    func.min(case((Attempt.passed, Attempt.created_at))).label("first_pass"))
_OF_EXERCISES = Attempt.exercise_id.in_(bindparam("exercise_ids", expanding=True))
_OF_LEARNERS = Attempt.user_id.in_(bindparam("user_ids", expanding=True))
_BY_LEARNER = (Attempt.user_id, Attempt.exercise_id)


def _last_scored(*scope: Any) -> Any:
    """Score and pass of each learner's scored attempt with the highest number."""
    last = (select(Attempt.user_id, Attempt.exercise_id,
                   func.max(Attempt.number).label("number"))
            .where(Attempt.score.is_not(None), *scope).group_by(*_BY_LEARNER)
            .subquery("last_scored"))
    return (select(last.c.user_id, last.c.exercise_id, Attempt.score, Attempt.passed)
            .join(Attempt, and_(Attempt.user_id == last.c.user_id,
                                Attempt.exercise_id == last.c.exercise_id,
                                Attempt.number == last.c.number)))


# (grouped counts, last scored) over every learner, and over some learners.
_COMPUTED = {
    False: (_LEARNER_COUNTS.where(_OF_EXERCISES).group_by(*_BY_LEARNER),
            _last_scored(_OF_EXERCISES)),
    True: (_LEARNER_COUNTS.where(_OF_EXERCISES, _OF_LEARNERS).group_by(*_BY_LEARNER),
           _last_scored(_OF_EXERCISES, _OF_LEARNERS)),
}


def computed(session: Session, exercises: Sequence[Exercise],
             user_ids: Sequence[int] | None = None) -> dict[tuple[int, str], dict[str, Any]]:
    """Each (learner, exercise)'s row computed from the attempts, for learners who tried.

    "highest" exercises count max(score), passed when any attempt passed, so a retry never
    lowers a grade; "latest" ones count the scored attempt with the highest number. Plain
    GROUP BY on the (user, exercise, number, ...) covering index, no window functions.
    """
    counts, last_scored = _COMPUTED[user_ids is not None]
    scope: dict[str, Any] = {"exercise_ids": [e.id for e in exercises]}
    if user_ids is not None:
        scope["user_ids"] = list(user_ids)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for row in session.execute(counts, scope):
        rows[(row.user_id, row.exercise_id)] = {
            "attempts": row.attempts, "awaiting": int(row.awaiting),
            "auto_graded": int(row.auto_graded), "score": row.score,
            "passed": bool(row.passed), "ever_passed": bool(row.passed),
            "first_passed_on": _day_of(row.first_pass)}
    latest = [e.id for e in exercises if e.policy.counts == "latest"]
    if latest:
        for key, values in rows.items():
            if key[1] in latest:
                values.update(score=None, passed=False)
        for row in session.execute(last_scored, {**scope, "exercise_ids": latest}):
            rows[(row.user_id, row.exercise_id)].update(score=row.score,
                                                        passed=bool(row.passed))
    return rows


def band_of(score: float) -> int:
    """The score-distribution band a counted score falls in (0 to len(BAND_EDGES))."""
    return sum(1 for edge in BAND_EDGES if score >= edge)


def _day_of(when: datetime | str | None) -> date | None:
    """The day of a timestamp from min() (SQLite may hand back the stored text)."""
    if when is None:
        return None
    return (datetime.fromisoformat(when) if isinstance(when, str) else when).date()


def totals_of(row: Mapping[str, Any]) -> Counter[str]:
    """What one learner's row adds to its exercise's totals, histogram included."""
    tried = row["attempts"] > 0
    scored = tried and row["score"] is not None
    band = band_of(row["score"]) if scored else None
    return Counter({
        "attempts": row["attempts"], "awaiting": row["awaiting"],
        "auto_graded": row["auto_graded"], "learners": int(tried), "scored": int(scored),
        "score_sum": row["score"] if scored else 0.0,
        "passed": int(tried and row["passed"]),
        **{name: int(band == n) for n, name in enumerate(BANDS)}})


# The learners' rows, which the upkeep writes and the changes to many learners lock.
LEARNERS = table_of(LearnerExercise)


# Every column of ExerciseTotals that a learner's row adds to.
TOTALS = tuple(totals_of(EMPTY_LEARNER))


def stored_outcomes(session: Session, exercise: Exercise) -> Counter[tuple[str, str]]:
    """Item outcomes over the exercise's machine-graded attempts: the database groups
    identical answers (many learners give the same one), each is classified once."""
    counts: Counter[tuple[str, str]] = Counter()
    if not exercise.auto_graded:
        return counts
    answer_text = cast(Attempt.answer, Text)
    rows = session.execute(
        select(answer_text, func.count())
        .where(Attempt.exercise_id == exercise.id, Attempt.status == AUTO_GRADED)
        .group_by(answer_text).execution_options(yield_per=BATCH))
    for stored, times in rows:
        for key, n in outcomes(exercise, json.loads(stored)).items():
            counts[key] += n * times
    return counts
