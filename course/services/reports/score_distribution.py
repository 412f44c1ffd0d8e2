"""The dashboard's charts: how many learners' counted scores fall in each band.

Kept apart from the dashboard's table because it reads the histogram the totals keep per
band, and its bands (with "awaiting review" last) are also the chart's labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.models import ExerciseTotals
from course.services.aggregates.rows import BANDS

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
