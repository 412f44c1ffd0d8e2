"""Releasing reviews: a draft becomes the score and feedback its learner sees.

It exists because a release is the moment a review counts: in one transaction it copies
the draft into the attempt, writes the ScoreChange audit row (kind "review", or "override"
when the instructor set the score), brings what derives from the score (step completion,
the report aggregates) in line, and hands the releases to `announce` so the learners'
emails commit with them. A draft saved again meanwhile is skipped, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import Attempt, ScoreChange
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services.aggregates import locks, upkeep


@dataclass(frozen=True)
class Released:
    """A review the learner can now see: whom to tell, about which attempt."""

    attempt_id: int
    user_id: int
    exercise_id: str
    number: int


# Called with the releases of a unit of work before it commits, to add what goes with
# them to the same transaction (the learners' emails, in the mail queue).
Announce = Callable[[Session, Sequence[Released]], None]


def release_one(session: Session, attempt: Attempt, released_by_id: int,
                course: Course) -> Released | None:
    """Make the attempt's draft the review its learner sees; audit the change. No commit.

    None when the draft moved on since it was read (another save or release won)."""
    draft = attempt.draft
    if draft is None:
        return None
    now = utcnow()
    rubric = draft["rubric"]
    # Written work has no machine score: its points are the rubric's.
    points = ({"points": rubric["points"], "max_points": rubric["max_points"]}
              if rubric is not None else {})
    done = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.revision == attempt.revision)
        .values(**points, status=AttemptStatus.REVIEWED.value, rubric=rubric,
                score=draft["score"], passed=draft["passed"], overridden=draft["overridden"],
                instructor_feedback=draft["feedback"], reviewer_id=attempt.draft_by_id,
                reviewed_at=attempt.draft_saved_at, released_at=now, feedback_unread=True,
                draft=None, draft_by_id=None, draft_saved_at=None,
                revision=Attempt.revision + 1)
        .execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", done).rowcount != 1:
        return None
    session.add(ScoreChange(
        attempt_id=attempt.id, changed_by_id=released_by_id, changed_at=now,
        kind="override" if draft["overridden"] else "review",
        old_score=attempt.score, new_score=draft["score"], reason=draft["reason"]))
    exercise = course.exercise(attempt.exercise_id)
    if exercise is not None:  # `attempt` still holds the status from before the UPDATE
        upkeep.after_change(session, exercise, [attempt.user_id], left=(
            [attempt.answer] if attempt.status == AttemptStatus.AUTO_GRADED else []))
    return Released(attempt.id, attempt.user_id, attempt.exercise_id, attempt.number)


def release_reviews(session: Session, released_by_id: int, *, course: Course,
                    attempt_id: int | None = None, exercise_id: str | None = None,
                    announce: Announce | None = None) -> list[Released]:
    """Release the draft of one attempt, every draft of an exercise, or (neither given)
    every draft of the course; commit.

    One query finds the drafts (over ix_attempts_drafts), then one UPDATE and
    one audit row each. A draft saved again meanwhile is skipped, not overwritten.
    `announce` gets the releases before the commit, so what it adds commits with them.
    """
    query = select(Attempt).where(Attempt.draft_saved_at.is_not(None))
    if attempt_id is not None:
        query = query.where(Attempt.id == attempt_id)
    if exercise_id is not None:
        query = query.where(Attempt.exercise_id == exercise_id)
    # The drafts, and then their learners' rows, locked before the first release takes
    # an exercise's totals (course.services.aggregates.locks).
    drafts = session.scalars(query.order_by(Attempt.id).with_for_update()).all()
    if len(drafts) > 1:
        locks.lock_learners(session, [(a.exercise_id, a.user_id) for a in drafts])
    released = [done for attempt in drafts
                if (done := release_one(session, attempt, released_by_id, course))]
    if released and announce is not None:
        announce(session, released)
    session.commit()
    return released


def count_drafts(session: Session, exercise_id: str | None = None) -> int:
    """Reviewed drafts waiting for release, of one exercise or of all (one query, over
    the drafts alone: ix_attempts_drafts holds nothing else)."""
    query = select(func.count()).select_from(Attempt).where(Attempt.draft_saved_at.is_not(None))
    if exercise_id is not None:
        query = query.where(Attempt.exercise_id == exercise_id)
    return session.scalar(query) or 0


# A draft saved longer ago than this has probably been forgotten: the dashboard says so.
STALE_DRAFT_AGE = timedelta(days=1)


@dataclass(frozen=True)
class ExerciseDrafts:
    """The unreleased drafts of one exercise: how many, how many of those are on work
    still awaiting review (a draft of a re-review sits on reviewed work), how many were
    saved longer ago than STALE_DRAFT_AGE, and when the oldest was saved."""

    drafts: int
    on_awaiting: int
    stale: int
    oldest: datetime


_AWAITING = AttemptStatus.AWAITING_REVIEW.value
# Over the drafts alone (ix_attempts_drafts, a partial index holding only them), so the
# dashboard's read costs the same however many attempts were ever released.
_DRAFTS_BY_EXERCISE = (
    select(Attempt.exercise_id, func.count().label("drafts"),
           func.count(case((Attempt.status == _AWAITING, 1))).label("on_awaiting"),
           func.count(case((Attempt.draft_saved_at < bindparam("stale_before"), 1)))
           .label("stale"),
           func.min(Attempt.draft_saved_at).label("oldest"))
    .where(Attempt.draft_saved_at.is_not(None))
    .group_by(Attempt.exercise_id))


def drafts_by_exercise(session: Session) -> dict[str, ExerciseDrafts]:
    """Exercise id -> its unreleased drafts, for exercises that have any (one query)."""
    stale_before = utcnow() - STALE_DRAFT_AGE
    return {row.exercise_id: ExerciseDrafts(row.drafts, row.on_awaiting, row.stale,
                                            row.oldest)
            for row in session.execute(_DRAFTS_BY_EXERCISE,
                                       {"stale_before": stale_before})}
