"""The one order in which every change takes the rows it writes.

Every change takes its rows in this order: the attempts, then the learners' rows (each
exercise's in user id order), then the exercise's totals, daily activity and item
counts; each learner's gradebook sort keys last, as the transaction commits
(course.services.learner_keys), since they change with every exercise. Two changes that
share rows therefore wait for each other instead of each holding a row the other needs,
which on PostgreSQL is a deadlock that aborts one of them (SQLite serialises writers).

- A change to one learner (a submission, a review, an override) locks that learner's
  row first, by the upsert that reads it (course.services.aggregates.upkeep), so two
  changes to the same learner and exercise are applied one after the other, each seeing
  the other's attempts. A submission replaces the row it read before grading with one
  UPDATE conditional on the row still being that, and locks and reads it only when it
  changed.
- A change to many learners (a regrade, in batches; the release of an exercise's
  reviews, one by one) would otherwise hold the totals while it still had attempts and
  learners' rows to take, which a submission or review in between holds: it takes them
  all first (`before_regrade`, `lock_learners`).
- A submission that PostgreSQL still picks to end a deadlock is made again
  (course.services.attempts.submit.submit).
- The rebuild locks the aggregate tables first (course.services.aggregates.rebuild), so
  upkeep running at the same time waits and then applies its change on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course.models import Attempt
from course.services.aggregates.rows import LEARNERS, table_of


def before_regrade(session: Session, exercise_id: str) -> None:
    """Lock every attempt of the exercise, then every learner's row for it (each in id
    order), before a regrade changes any of them (see the module's docstring). SQLite
    serialises writers, and its statements have no FOR UPDATE: there these are counts."""
    attempts = table_of(Attempt)
    _lock_rows(session, attempts.c.id, attempts.c.exercise_id == exercise_id)
    _lock_rows(session, LEARNERS.c.user_id, LEARNERS.c.exercise_id == exercise_id)


def lock_learners(session: Session, learners: Iterable[tuple[str, int]]) -> None:
    """Lock these (exercise id, user id) rows, in that order, before a change to many
    learners takes the first exercise's totals; its attempts are locked already (see the
    module's docstring)."""
    by_exercise: dict[str, list[int]] = {}
    for exercise_id, user_id in sorted(set(learners)):
        by_exercise.setdefault(exercise_id, []).append(user_id)
    for exercise_id, users in by_exercise.items():
        _lock_rows(session, LEARNERS.c.user_id, LEARNERS.c.exercise_id == exercise_id,
                   LEARNERS.c.user_id.in_(users))


def _lock_rows(session: Session, order: Any, *where: Any) -> None:
    """Lock the rows of `order`'s table that match `where`, in `order` (FOR UPDATE in a
    count: the rows themselves are not needed)."""
    session.execute(select(func.count()).select_from(
        select(order).where(*where).order_by(order).with_for_update().subquery()))
