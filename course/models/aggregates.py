"""Report aggregates, kept up to date by course.services.aggregates.

The instructor reports and "My progress" read these instead of every attempt, so their
cost does not grow with the number of attempts. They are derived data: the attempts stay
the truth, and `flask --app course rebuild-aggregates` recomputes these tables from them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from course.models.base import Base


class LearnerExercise(Base):
    """One learner's standing on one exercise they have tried."""

    __tablename__ = "learner_exercise_stats"
    __table_args__ = (
        # The gradebook's page of learners and the upkeep read by (exercise, learner).
        Index("ix_learner_exercise_stats_exercise", "exercise_id", "user_id"),
    )

    # The primary key (user_id, exercise_id) serves "My progress".
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    awaiting: Mapped[int] = mapped_column(default=0)  # attempts awaiting review
    auto_graded: Mapped[int] = mapped_column(default=0)  # attempts still machine-graded
    # The counted score (the exercise's policy picks the attempt); None while none is scored.
    score: Mapped[float | None]
    passed: Mapped[bool] = mapped_column(default=False)  # the counted attempt passed
    ever_passed: Mapped[bool] = mapped_column(default=False)  # any attempt passed
    # The UTC day the earliest passing attempt was submitted (None until one passes): the
    # day the learner completed the exercise, on the activity chart.
    first_passed_on: Mapped[date | None]


class ExerciseTotals(Base):
    """The dashboard's line and score-distribution chart for one exercise: sums over its
    LearnerExercise rows, kept with them, so the dashboard reads one row per exercise."""

    __tablename__ = "exercise_stats"

    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    awaiting: Mapped[int] = mapped_column(default=0)
    auto_graded: Mapped[int] = mapped_column(default=0)
    learners: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)  # learners with a counted score
    score_sum: Mapped[float] = mapped_column(default=0.0)  # sum of those counted scores
    passed: Mapped[int] = mapped_column(default=0)  # learners whose counted attempt passed
    # The score-distribution histogram: learners whose counted score is in 0-19%, 20-39%,
    # 40-59%, 60-79%, 80-100% (course.services.aggregates.rows.band_of). Those awaiting review
    # are `learners - scored`.
    band_0: Mapped[int] = mapped_column(default=0)
    band_1: Mapped[int] = mapped_column(default=0)
    band_2: Mapped[int] = mapped_column(default=0)
    band_3: Mapped[int] = mapped_column(default=0)
    band_4: Mapped[int] = mapped_column(default=0)


class ItemOutcome(Base):
    """How many machine-graded attempts got an item (card, question) right, wrong, or made
    one class of mistake on it (put it in that bucket or column, ticked that option).

    `outcome` is course.services.aggregates.rows.CORRECT or WRONG, or a mistake class from the
    kind's `classify` (an id from the exercise file). One attempt counts once as right or
    wrong per item it answered, and once per mistake it made on it.
    """

    __tablename__ = "item_outcomes"

    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class DailyActivity(Base):
    """Per UTC day and exercise: attempts submitted, and learners who completed the
    exercise (the day of their first passing attempt). The activity chart reads a few
    weeks of these rows, however many attempts there are."""

    __tablename__ = "daily_activity"

    # The primary key (day, exercise_id) serves the chart's range of days.
    day: Mapped[date] = mapped_column(primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)


class LearnerCount(Base):
    """How many learner accounts there are (one row, id 1): the gradebook's page count
    reads it instead of counting every learner on every page. Kept by
    course.services.aggregates as accounts are made and deleted."""

    __tablename__ = "learner_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    learners: Mapped[int] = mapped_column(default=0)
