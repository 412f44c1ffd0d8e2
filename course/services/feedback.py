"""Feedback as the learner reads it: the released review of an attempt, and what is unread.

It exists apart from the instructor's side because reading is the learner's act: opening
the attempt marks its feedback read (so "New feedback" clears), without bumping the
attempt's revision, so an instructor's open review form stays valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.grading import registry
from course.models import Attempt, User
from course.services.attempts.reads import OwnAttempt
from course.services.sign_ins import NEW_FEEDBACK


@dataclass(frozen=True)
class RubricChoice:
    """One rubric criterion as the learner sees their grade on it."""

    title: str
    label: str
    points: float
    max_points: float
    description: str


@dataclass(frozen=True)
class InstructorFeedback:
    """What the learner's attempt page shows of a review."""

    reviewer_name: str
    reviewed_at: datetime
    score: float | None
    overridden: bool
    rubric: tuple[RubricChoice, ...]
    feedback_markdown: str


def _rubric_choices(exercise: Exercise | None,
                    rubric: Mapping[str, Any] | None) -> tuple[RubricChoice, ...]:
    if exercise is None or not rubric:
        return ()
    levels = rubric.get("levels", {})
    choices = []
    for criterion in registry.kind_of(exercise).rubric(exercise.spec):
        level = criterion.level(levels.get(criterion.id))
        if level is not None:
            choices.append(RubricChoice(criterion.title, level.label, level.points,
                                        criterion.max_points, level.description))
    return tuple(choices)


def read_feedback(session: Session, attempt: Attempt | OwnAttempt,
                  exercise: Exercise | None) -> InstructorFeedback | None:
    """The review of `attempt` for its learner, marking it read (None if not reviewed).

    Called when the learner opens the attempt, so "New feedback" on My progress clears
    once they have seen it. Two queries at most: the reviewer's name, and the update.
    """
    if attempt.reviewed_at is None:
        return None
    reviewer_name = "An instructor"
    if attempt.reviewer_id is not None:
        reviewer_name = session.scalar(
            select(User.display_name).where(User.id == attempt.reviewer_id)) or reviewer_name
    if attempt.feedback_unread:
        # No revision bump: reading feedback must not make an open review form stale.
        session.execute(update(Attempt).where(Attempt.id == attempt.id)
                        .values(feedback_unread=False)
                        .execution_options(synchronize_session=False))
        session.commit()
    return InstructorFeedback(
        reviewer_name=reviewer_name, reviewed_at=attempt.reviewed_at, score=attempt.score,
        overridden=attempt.overridden, rubric=_rubric_choices(exercise, attempt.rubric),
        feedback_markdown=attempt.instructor_feedback or "")


def exercises_with_new_feedback(session: Session, user_id: int) -> set[str]:
    """Ids of exercises where the learner has feedback they have not opened (one query;
    the sign-in reads the same with the user, course.services.sign_ins)."""
    rows = session.connection().execute(NEW_FEEDBACK, {"user_id": user_id})
    return {exercise_id for (exercise_id,) in rows}  # plain rows: no ScalarResult
