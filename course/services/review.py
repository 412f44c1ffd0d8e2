"""Instructor review: a rubric grade, feedback and an optional override, saved as a draft.

It exists so every review is checked in one place (every problem reported at once, nothing
stored when one is found) and saved safely when two instructors edit the same submission.
A saved review is a draft (`Attempt.draft`) the learner cannot see until it is released
(course.services.release). Saving is one conditional UPDATE on the attempt's `revision`:
when two instructors edit the same submission, the second save matches no row and is
refused (ReviewConflict) instead of silently overwriting the first. Release and regrade
bump the revision too, so a form opened before either is refused as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.grading import registry, rubric
from course.grading.base import InvalidAnswer
from course.models import Attempt
from course.models.timestamps import utcnow
from course.services.release import Announce, Released, release_one

FEEDBACK_MAX_LENGTH = 10_000


class ReviewConflict(Exception):
    """Someone saved this attempt after the reviewer's form was loaded."""


class ReviewInvalid(ValueError):
    """The review cannot be saved as given; `problems` are messages for the instructor."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class AttemptNotFound(LookupError):
    """No attempt has this id."""


@dataclass(frozen=True)
class ReviewInput:
    """What the instructor entered: rubric levels (criterion id -> points) for written
    work, Markdown feedback, an optional override score (0 to 1) and its reason."""

    rubric_levels: Mapping[str, Any] | None
    feedback_markdown: str
    override_score: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """A review as it would count once released; stored as the attempt's draft."""

    rubric: dict[str, Any] | None
    score: float | None
    passed: bool
    overridden: bool
    feedback: str | None
    reason: str

    def as_draft(self) -> dict[str, Any]:
        return {"rubric": self.rubric, "score": self.score, "passed": self.passed,
                "overridden": self.overridden, "feedback": self.feedback,
                "reason": self.reason}


@dataclass(frozen=True)
class SaveResult:
    attempt: Attempt
    released: Released | None  # set when the exercise releases reviews on save


def current_review(attempt: Attempt) -> dict[str, Any]:
    """The review an instructor is working on: the unreleased draft, else what the
    learner sees. The form and a second save both start from this."""
    if attempt.draft is not None:
        return attempt.draft
    return {"rubric": attempt.rubric, "score": attempt.score, "passed": attempt.passed,
            "overridden": attempt.overridden, "feedback": attempt.instructor_feedback,
            "reason": ""}


def _rubric_record(exercise: Exercise, levels: Mapping[str, Any]) -> dict[str, Any]:
    """Score the chosen levels and keep them with the result, so the learner's page and a
    later regrade read the rubric score without the form."""
    try:
        result = rubric.score_rubric(registry.kind_of(exercise).rubric(exercise.spec),
                                     levels)
    except InvalidAnswer as exc:
        raise ReviewInvalid(exc.problems) from exc
    return {"levels": {i.item_id: i.credit for i in result.items},
            "points": result.points, "max_points": result.max_points, "score": result.score}


def _checked_rubric(exercise: Exercise | None, levels: Mapping[str, Any] | None,
                    current: dict[str, Any] | None, problems: list[str]) -> dict[str, Any] | None:
    """The rubric record to keep: the newly chosen levels, or the current ones."""
    written = exercise is not None and bool(registry.kind_of(exercise).rubric(exercise.spec))
    if levels is None:
        if written and current is None:
            problems.append("Choose a level for every rubric criterion.")
        return current
    if exercise is None or not written:
        problems.append("Only written assignments are graded with a rubric.")
        return current
    try:
        return _rubric_record(exercise, levels)
    except ReviewInvalid as exc:
        problems.extend(exc.problems)
        return current


def _override_problems(given: ReviewInput, current: dict[str, Any]) -> list[str]:
    """An override must be a score from 0 to 1, and a new one needs a reason."""
    score = given.override_score
    if score is None:
        return []
    if not (math.isfinite(score) and 0 <= score <= 1):
        return ["An override score must be between 0% and 100%."]
    repeated = current["overridden"] and current["score"] == score
    if not repeated and not given.reason.strip():
        return ["Give a reason for overriding the score."]
    return []


def review_outcome(attempt: Attempt, exercise: Exercise | None,
                   given: ReviewInput) -> Outcome:
    """Check `given` against the attempt and work out the score it gives; ReviewInvalid
    (every problem at once) when it cannot be saved."""
    current = current_review(attempt)
    problems: list[str] = []
    rubric = _checked_rubric(exercise, given.rubric_levels, current["rubric"], problems)
    problems += _override_problems(given, current)
    if len(given.feedback_markdown) > FEEDBACK_MAX_LENGTH:
        problems.append(f"Keep the feedback under {FEEDBACK_MAX_LENGTH:,} characters.")
    if problems:
        raise ReviewInvalid(problems)
    overridden = given.override_score is not None
    base_score = rubric["score"] if rubric is not None else attempt.auto_score
    score = given.override_score if overridden else base_score
    # An exercise that left the course has no pass mark: keep what was decided.
    passed = (attempt.passed if exercise is None
              else score is not None and score >= exercise.policy.pass_mark)
    reason = given.reason.strip() if overridden else ""
    if overridden and not reason:  # the same override saved again keeps its reason
        reason = current["reason"]
    return Outcome(rubric, score, passed, overridden,
                   given.feedback_markdown.strip() or None, reason)


def _store_draft(session: Session, attempt_id: int, expected_revision: int,
                 outcome: Outcome, reviewer_id: int) -> None:
    """Keep the review as the attempt's draft: one conditional UPDATE on the revision."""
    done = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.revision == expected_revision)
        .values(draft=outcome.as_draft(), draft_by_id=reviewer_id, draft_saved_at=utcnow(),
                revision=Attempt.revision + 1)
        .execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", done).rowcount != 1:
        session.rollback()
        raise ReviewConflict(attempt_id)


def save_review(session: Session, attempt_id: int, reviewer_id: int, expected_revision: int,
                given: ReviewInput, *, course: Course,
                announce: Announce | None = None) -> SaveResult:
    """Store an instructor's review of one attempt as a draft, and commit.

    The learner sees nothing of it until it is released (`release_reviews`), unless the
    exercise's policy releases on save (then `announce` is called before the commit).
    Raises AttemptNotFound, ReviewInvalid (nothing stored) or ReviewConflict (someone
    else saved first).
    """
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise AttemptNotFound(attempt_id)
    if attempt.revision != expected_revision:
        raise ReviewConflict(attempt_id)
    exercise = course.exercise(attempt.exercise_id)
    outcome = review_outcome(attempt, exercise, given)
    _store_draft(session, attempt_id, expected_revision, outcome, reviewer_id)
    released = None
    if exercise is not None and exercise.policy.release == "on_save":
        session.expire(attempt)
        fresh = session.get(Attempt, attempt_id)
        if fresh is not None:
            released = release_one(session, fresh, reviewer_id, course)
    if released is not None and announce is not None:
        announce(session, [released])
    session.commit()
    session.refresh(attempt)
    return SaveResult(attempt, released)
