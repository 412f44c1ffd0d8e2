"""Activity by day: attempts submitted and exercises completed, over the last weeks.

It exists so an instructor sees when the cohort works; it reads the daily counts the
aggregates keep, one grouped query over at most a row per day and exercise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import DailyActivity
from course.models.timestamps import utcnow

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
