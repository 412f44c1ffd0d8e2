"""Regrade: re-run an exercise's grader on every stored answer after the exercise changed.

It exists so correcting an answer key or a pass mark reaches the learners who already
answered: the machine's score and feedback are refreshed, the counted score follows them
unless an instructor overrode it, each changed score gets a ScoreChange audit row, and
what derives from the scores (step completion, the report aggregates) is brought in
line. A preview shows the same outcome without changing anything. Written work has no
answer key, so it cannot be regraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.grading import registry
from course.grading.base import Result
from course.models import Attempt, ScoreChange, User
from course.models.timestamps import utcnow
from course.services.aggregates import locks, upkeep

REGRADE_BATCH = 500


class NothingToRegrade(ValueError):
    """Written work is graded by people; there is no answer key to re-run."""


@dataclass(frozen=True)
class Change:
    """One attempt whose score a regrade changed, or would have changed."""

    attempt_id: int
    learner: str
    number: int
    old_score: float | None
    new_score: float | None


@dataclass
class RegradeReport:
    """What a regrade did: scores changed, overrides kept, answers it could not grade."""

    exercise: Exercise
    regraded: int = 0
    changed: list[Change] = field(default_factory=list)
    kept: list[Change] = field(default_factory=list)  # old = kept score, new = machine's
    failed: list[tuple[Change, str]] = field(default_factory=list)


def _regrade_rows(session: Session, exercise: Exercise) -> Iterator[list[Any]]:
    """Every stored attempt of `exercise`, in keyset batches so memory stays flat."""
    last_id = 0
    while True:
        rows = session.execute(
            select(Attempt.id, Attempt.user_id, Attempt.number, Attempt.answer,
                   Attempt.score, Attempt.auto_score, Attempt.passed, Attempt.overridden,
                   Attempt.revision, User.display_name)
            .join(User, User.id == Attempt.user_id)
            .where(Attempt.exercise_id == exercise.id, Attempt.id > last_id)
            .order_by(Attempt.id).limit(REGRADE_BATCH)).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield list(rows)


@dataclass(frozen=True)
class _Rescored:
    """One attempt scored against the exercise as it is now."""

    result: Result
    score: float
    passed: bool


def _rescore(exercise: Exercise, row: Any) -> _Rescored | str:
    """Grade a stored answer again; why not, when it no longer fits the exercise."""
    problems = registry.validate(exercise, row.answer)
    if problems:
        return " ".join(problems)
    result = registry.grade(exercise, row.answer)
    score = row.score if row.overridden else result.score
    passed = row.passed if row.overridden else score >= exercise.policy.pass_mark
    return _Rescored(result, score, passed)


def _note(report: RegradeReport, row: Any, outcome: _Rescored | str) -> None:
    """Count one attempt's regrade (or failure to regrade) in `report`."""
    change = partial(Change, row.id, row.display_name, row.number)
    if isinstance(outcome, str):
        report.failed.append((change(row.score, None), outcome))
        return
    report.regraded += 1
    if row.overridden and outcome.result.score != row.auto_score:
        report.kept.append(change(row.score, outcome.result.score))
    if outcome.score != row.score:
        report.changed.append(change(row.score, outcome.score))


def preview_regrade(session: Session, exercise: Exercise) -> RegradeReport:
    """What `regrade_exercise` would do, changing nothing: how many attempts, which scores
    would change, which overrides would be kept. NothingToRegrade for written work."""
    if not exercise.auto_graded:
        raise NothingToRegrade(exercise.id)
    report = RegradeReport(exercise)
    for rows in _regrade_rows(session, exercise):
        for row in rows:
            _note(report, row, _rescore(exercise, row))
    return report


def regrade_exercise(session: Session, exercise: Exercise,
                     changed_by_id: int | None) -> RegradeReport:
    """Re-score every stored attempt of `exercise` against the exercise as it is now; commit.

    The machine's score and feedback are always refreshed; the counted score follows them
    unless an instructor overrode it. An answer that no longer fits the exercise (an item
    was removed, say) is left as it was and reported, not fatal. Written work (kind
    review) has no answer key to regrade against: NothingToRegrade.
    """
    if not exercise.auto_graded:
        raise NothingToRegrade(exercise.id)
    report = RegradeReport(exercise)
    locks.before_regrade(session, exercise.id)
    regraded = False
    for rows in _regrade_rows(session, exercise):
        regraded = True
        now = utcnow()
        for row in rows:
            outcome = _rescore(exercise, row)
            if not isinstance(outcome, str) and not _store_regrade(
                    session, exercise, row, outcome, changed_by_id, now):
                outcome = "An instructor saved this attempt during the regrade."
            _note(report, row, outcome)
        upkeep.after_change(session, exercise, {row.user_id for row in rows})
    if regraded:  # with no attempts, the item counts are those of answers since: theirs
        upkeep.after_regrade(session, exercise)
    session.commit()
    return report


def _store_regrade(session: Session, exercise: Exercise, row: Any, rescored: _Rescored,
                   changed_by_id: int | None, now: datetime) -> bool:
    """Write one regraded attempt and its audit row; False if it was saved meanwhile."""
    result = rescored.result
    done = session.execute(
        update(Attempt)
        .where(Attempt.id == row.id, Attempt.revision == row.revision)
        .values(auto_score=result.score, points=result.points, max_points=result.max_points,
                feedback=result.feedback_json(), score=rescored.score,
                passed=rescored.passed, regraded_at=now, revision=Attempt.revision + 1)
        .execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", done).rowcount != 1:
        return False
    if rescored.score != row.score:
        session.add(ScoreChange(attempt_id=row.id, changed_by_id=changed_by_id,
                                changed_at=now, kind="regrade", old_score=row.score,
                                new_score=rescored.score, reason="Regraded against the "
                                "current version of the exercise."))
    return True
