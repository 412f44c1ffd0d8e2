"""Every aggregate recomputed from the attempts alone.

The upkeep (course.services.aggregates.upkeep) keeps the aggregates change by change;
this recomputes them from scratch, for `flask --app course rebuild-aggregates` after an
exercise's policy changes, for a database that has attempts but no aggregates yet
(`fill_if_missing`, at start-up), after a bulk load (demo data, the benchmark's
databases), and for the drift check (course.services.drift), which compares the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import (
    Attempt,
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerCount,
    LearnerExercise,
    User,
)
from course.models.user import Role
from course.services import progress
from course.services.aggregates.counts import add_days, add_item_counts, add_learners, add_totals
from course.services.aggregates.rows import (
    BATCH,
    DAY,
    EMPTY_LEARNER,
    computed,
    stored_outcomes,
    table_of,
    totals_of,
)
from course.services.learner_keys import rebuild_keys


@dataclass(frozen=True)
class Rebuilt:
    learner_rows: int
    exercises: int
    item_rows: int


def rebuild(session: Session, course: Course) -> Rebuilt:
    """Recompute every aggregate from the attempts, in one transaction, and commit."""
    done = rebuild_uncommitted(session, course)
    session.commit()
    return done


def rebuild_uncommitted(session: Session, course: Course) -> Rebuilt:
    """`rebuild` without the commit (course.services.drift rolls it back to compare).

    On PostgreSQL the aggregate tables are locked first, so upkeep running at the same
    time waits and then applies its change on top of the rebuilt values.
    """
    tables = (table_of(LearnerExercise), table_of(ExerciseTotals), table_of(ItemOutcome),
              table_of(DailyActivity), table_of(LearnerCount))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE " + ", ".join(t.name for t in tables)
                             + " IN EXCLUSIVE MODE"))
    for table in tables:
        session.execute(delete(table))
    learners = computed(session, course.exercises)
    rows = [{"user_id": u, "exercise_id": e, **values}
            for (u, e), values in sorted(learners.items())]
    for start in range(0, len(rows), BATCH):
        session.execute(table_of(LearnerExercise).insert(), rows[start:start + BATCH])
    totals: dict[str, Counter[str]] = {}
    for (_, exercise_id), values in learners.items():
        totals.setdefault(exercise_id, Counter()).update(totals_of(values))
    for exercise_id, change in sorted(totals.items()):
        add_totals(session, exercise_id, {**totals_of(EMPTY_LEARNER), **change})
    items = 0
    for exercise in course.exercises:
        counts = stored_outcomes(session, exercise)
        add_item_counts(session, exercise.id, counts)
        items += len(counts)
    days: dict[str, Counter[tuple[date, str]]] = {}
    for exercise_id, day, n in session.execute(
            select(Attempt.exercise_id, DAY, func.count())
            .where(Attempt.exercise_id.in_([e.id for e in course.exercises]))
            .group_by(Attempt.exercise_id, DAY)):
        days.setdefault(exercise_id, Counter())[(day, "attempts")] += n
    for (_, exercise_id), values in learners.items():
        if values["first_passed_on"] is not None:
            days.setdefault(exercise_id, Counter())[(values["first_passed_on"],
                                                      "completions")] += 1
    for exercise_id, day_counts in sorted(days.items()):
        add_days(session, exercise_id, day_counts)
    progress.rebuild_exercise_steps(
        session, [e.id for e in course.exercises],
        [key for key, values in learners.items() if values["ever_passed"]])
    rebuild_keys(session)
    add_learners(session.connection(), session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.LEARNER.value)) or 0)
    return Rebuilt(len(rows), len(totals), items)


def fill_if_missing(session: Session, course: Callable[[], Course]) -> bool:
    """Rebuild when there are attempts but no aggregates yet (a database upgraded from
    before they, or the daily activity, existed); True when it did. Two cheap queries
    otherwise, and `course` is called (the course read) only for a rebuild."""
    if session.scalar(select(DailyActivity.day).limit(1)) is not None:
        return False
    if session.scalar(select(Attempt.id).limit(1)) is None:
        return False
    rebuild(session, course())
    return True
