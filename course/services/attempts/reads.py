"""Reading back what a learner did: their attempts, their standing on each exercise.

The learner's pages (the exercise page's list, the attempt page, My progress, the
results) and the services that check a learner's progress read through these queries,
so the index each one uses and what counts (which attempt, whether one passed) are
decided once. Every read is one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from course.content.schema import Course
from course.models import Attempt, LearnerExercise, StepProgress
from course.models.attempt import AttemptStatus


@dataclass(frozen=True)
class Summary:
    """One learner's standing on one exercise, for "My progress"."""

    attempts_used: int
    counted_score: float | None
    passed: bool
    awaiting_review: bool


_OWN_ATTEMPT = select(Attempt).where(Attempt.id == bindparam("attempt_id"),
                                     Attempt.user_id == bindparam("user_id"))


def attempt_of(session: Session, user_id: int, attempt_id: int) -> Attempt | None:
    """The attempt if it belongs to `user_id`; None for anybody else's (one query)."""
    return session.scalar(_OWN_ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id})


# The learner's own rows: both engines read them through ix_attempts_learner_scores (which
# covers the standing), whatever the statistics say (tests/test_query_plans.py).
_LEARNER_EXERCISE = (Attempt.user_id == bindparam("user_id"),
                     Attempt.exercise_id == bindparam("exercise_id"))


@dataclass(frozen=True)
class Standing:
    """How far a learner is with one exercise, counted by the database."""

    used: int
    passed: bool
    last_id: int | None  # their newest attempt
    # The newest attempt waits for an instructor: no new answer until it is reviewed.
    awaiting_review: bool = False

    @classmethod
    def of(cls, attempts: Sequence[Attempt]) -> Standing:
        """The standing from attempts already loaded, oldest first."""
        return cls(used=len(attempts), passed=any(a.passed for a in attempts),
                   last_id=attempts[-1].id if attempts else None,
                   awaiting_review=bool(attempts) and
                   attempts[-1].status == AttemptStatus.AWAITING_REVIEW)


def standing(session: Session, user_id: int, exercise_id: str) -> Standing:
    """Attempts used, whether any passed, the newest one's id and whether it awaits
    review: one aggregate query on the (user, exercise, number) index, so it costs the
    same after 5 or 5,000 attempts."""
    # On the connection: a plain row needs none of the ORM's result handling.
    return _standing_of(session.connection().execute(
        _STANDING, {"user_id": user_id, "exercise_id": exercise_id}).one())


def _standing_of(row: Sequence[Any]) -> Standing:
    """The Standing from the columns of `_STANDING` (first in `row`)."""
    return Standing(used=row[0], passed=bool(row[1]), last_id=row[2],
                    awaiting_review=row[3] is not None and row[3] == row[2])


def _standing_on(exercise_id: ColumnElement[str]) -> Select[int, Any, int, Any]:
    """The learner's standing on the exercise `exercise_id` names, one row (`_standing_of`)."""
    return (select(func.count(), func.max(case((Attempt.passed, 1), else_=0)),
                   func.max(Attempt.id),
                   func.max(case((Attempt.status == AttemptStatus.AWAITING_REVIEW.value,
                                  Attempt.id))))
            .where(Attempt.user_id == bindparam("user_id"), Attempt.exercise_id == exercise_id))


_STANDING = _standing_on(bindparam("exercise_id"))


@dataclass(frozen=True)
class OwnAttempt:
    """An attempt as its learner's pages show it (the attempt page, the self-assessment
    form). A plain row, not the model: nothing on those pages changes the object
    (marking feedback read and storing a self-assessment are UPDATEs by id), so no model
    object needs building and tracking on each view of an attempt."""

    id: int
    exercise_id: str
    exercise_version: str
    number: int
    status: str
    answer: dict[str, Any]
    feedback: dict[str, Any]
    score: float | None
    points: float
    max_points: float
    passed: bool
    overridden: bool
    created_at: datetime
    rubric: dict[str, Any] | None
    instructor_feedback: str | None
    reviewer_id: int | None
    reviewed_at: datetime | None
    feedback_unread: bool
    self_assessment: dict[str, Any] | None


def own_attempt(session: Session, user_id: int,
                attempt_id: int) -> tuple[OwnAttempt, Standing] | None:
    """The attempt if it belongs to `user_id`, with their standing on its exercise (the
    attempt page shows both); None for anybody else's. One query, so the page makes one
    round trip for both."""
    row = session.connection().execute(_OWN_ATTEMPT_WITH_STANDING, {
        "attempt_id": attempt_id, "user_id": user_id}).first()
    if row is None:
        return None
    return OwnAttempt(*row[:_OWN_COLUMNS]), _standing_of(row[_OWN_COLUMNS:])


def _own_attempt_with_standing() -> Select[Any]:
    """The attempt's columns (when it is the learner's) joined with the standing on its
    exercise, whose id is read from the attempt's row by its primary key."""
    theirs = aliased(Attempt, name="theirs")
    counted = _standing_on(
        select(theirs.exercise_id)
        .where(theirs.id == bindparam("attempt_id"), theirs.user_id == bindparam("user_id"))
        .scalar_subquery()).subquery("standing")
    columns = cast(Table, Attempt.__table__).c
    return (select(*(columns[f.name] for f in fields(OwnAttempt)), *counted.c)
            .select_from(counted)
            .join(Attempt, and_(Attempt.id == bindparam("attempt_id"),
                                Attempt.user_id == bindparam("user_id"))))


_OWN_ATTEMPT_WITH_STANDING = _own_attempt_with_standing()
_OWN_COLUMNS = len(fields(OwnAttempt))


ATTEMPTS_PAGE_SIZE = 20


class ListedAttempt(NamedTuple):
    """One line of the exercise page's list of a learner's attempts."""

    id: int
    number: int
    status: str
    score: float | None
    passed: bool
    created_at: datetime
    answer: dict[str, Any] | None  # the newest attempt's only: a retry starts from it


@dataclass(frozen=True)
class AttemptsPage:
    """A page of a learner's attempts, newest first; `older` is the number to continue
    before, or None on the last page."""

    attempts: list[ListedAttempt]
    older: int | None


def recent_attempts(session: Session, user_id: int, exercise_id: str,
                    before: int | None = None, page_size: int = ATTEMPTS_PAGE_SIZE
                    ) -> tuple[Standing, AttemptsPage]:
    """The learner's standing on the exercise and their attempts numbered below `before`
    (all when None), one page of them, newest first (by keyset on the attempt number),
    with the answer of their newest attempt if it is on the page.

    One query, however many attempts: the standing's aggregate (one row, always) joined
    with the page, so the page makes one round trip for both.
    """
    rows = session.connection().execute(
        _RECENT if before is None else _RECENT_BEFORE,
        {"user_id": user_id, "exercise_id": exercise_id, "before": before,
         "rows": page_size + 1}).all()
    standing = _standing_of(rows[0])
    listed = [ListedAttempt._make(row[4:]) for row in rows if row[4] is not None]
    more = len(listed) > page_size
    listed = listed[:page_size]
    return standing, AttemptsPage(listed, listed[-1].number if more and listed else None)


def _recent(before: bool) -> Select[Any]:
    """The standing (as `_STANDING`) left-joined with one page of attempts, newest first.

    The list shows each attempt's number, score, status and date, and a retry starts from
    the newest one's answer: the other answers and everything else (feedback, rubric,
    drafts) stay in the database. Plain rows, read on the connection: nothing changes
    them, so they need no ORM objects.
    """
    counted = _STANDING.subquery("standing")
    page = (select(Attempt.id, Attempt.number, Attempt.status, Attempt.score,
                   Attempt.passed, Attempt.created_at, Attempt.answer)
            .where(*_LEARNER_EXERCISE)
            .order_by(Attempt.number.desc()).limit(bindparam("rows")))
    if before:
        page = page.where(Attempt.number < bindparam("before"))
    listed = page.subquery("page")
    return (select(*counted.c, listed.c.id, listed.c.number, listed.c.status,
                   listed.c.score, listed.c.passed, listed.c.created_at,
                   case((listed.c.id == counted.c[2], listed.c.answer), else_=null()))
            .select_from(counted.outerjoin(listed, true()))
            .order_by(listed.c.number.desc()))


_RECENT, _RECENT_BEFORE = _recent(before=False), _recent(before=True)


def learner_progress(session: Session, user_id: int, course: Course
                     ) -> tuple[set[str], dict[str, Summary]]:
    """The steps the learner has completed and, by id, a summary of every exercise they
    have tried: one query on their maintained aggregates (course.services.aggregates),
    however many attempts they made. The course home, My progress and the results need
    both, so they come in one round trip."""
    done: set[str] = set()
    tried: dict[str, Summary] = {}
    rows = session.connection().execute(_LEARNER_PROGRESS, {"user_id": user_id})
    for exercise_id, attempts, score, ever_passed, awaiting in rows:
        if attempts is None:
            done.add(exercise_id)
        else:
            tried[exercise_id] = Summary(attempts_used=attempts, counted_score=score,
                                         passed=bool(ever_passed),
                                         awaiting_review=awaiting > 0)
    return done, {exercise.id: found for exercise in course.exercises
                  if (found := tried.get(exercise.id)) is not None}


# Plain rows on the connection, as for the attempt list.
_LEARNER_SUMMARIES = select(
    LearnerExercise.exercise_id, LearnerExercise.attempts, LearnerExercise.score,
    LearnerExercise.ever_passed, LearnerExercise.awaiting).where(
    LearnerExercise.user_id == bindparam("user_id"))
# ... and one row per completed step, with no counts (attempts is never null above).
_LEARNER_PROGRESS: CompoundSelect[Any] = union_all(_LEARNER_SUMMARIES, select(
    StepProgress.step_id, null(), null(), null(), null()).where(
    StepProgress.user_id == bindparam("user_id")))
