"""The dashboard's table: how each exercise is going, at a glance.

It exists so an instructor sees, per exercise, attempts, learners, mean score, pass rate,
work awaiting review and draft reviews not yet released, from one read of the maintained
totals and one of the drafts (a partial index of them alone), never a scan of attempts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.models import ExerciseTotals
from course.services.release import ExerciseDrafts, drafts_by_exercise


@dataclass(frozen=True)
class ExerciseStats:
    """One dashboard row. Means and rates are None when nobody is counted yet."""

    exercise: Exercise
    attempts: int = 0
    learners: int = 0
    mean_score: float | None = None
    pass_rate: float | None = None
    awaiting_review: int = 0  # with no review saved: a draft is not awaiting anyone
    drafts: ExerciseDrafts | None = None  # reviews saved but not released


def dashboard(session: Session, course: Course) -> list[ExerciseStats]:
    """Per exercise, in course order: attempts, learners, mean counted score, pass rate,
    how many attempts await review and the draft reviews waiting for release (two queries:
    the maintained totals, and the drafts alone; so the cost is the same at a thousand
    attempts or a million).

    The mean is over learners with a scored counted attempt; the pass rate is learners
    whose counted attempt passed over every learner who tried, so work still awaiting
    review lowers the rate until it is graded rather than vanishing from it.
    """
    totals = {row.exercise_id: row for row in session.scalars(select(ExerciseTotals))}
    drafts = drafts_by_exercise(session)
    stats = []
    for exercise in course.exercises:
        total = totals.get(exercise.id)
        if total is None or not total.learners:
            stats.append(ExerciseStats(exercise))
            continue
        # The totals count attempts by status, and a draft leaves its attempt awaiting
        # review until it is released.
        draft = drafts.get(exercise.id)
        stats.append(ExerciseStats(
            exercise, attempts=total.attempts, learners=total.learners,
            mean_score=total.score_sum / total.scored if total.scored else None,
            pass_rate=total.passed / total.learners, drafts=draft,
            awaiting_review=total.awaiting - (draft.on_awaiting if draft else 0)))
    return stats
