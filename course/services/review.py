"""Instructor review: grading with a rubric, overriding scores, feedback, and regrading.

Every change to an attempt's score goes through here so that each one lands in the
ScoreChange audit trail. Saving a review is one conditional UPDATE on the attempt's
`revision`: when two instructors edit the same submission, the second save matches no
row and is refused (ReviewConflict) instead of silently overwriting the first. Regrade
bumps the revision too, so a review form opened before a regrade is refused as well.
Nothing here imports Flask: the session is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.grading import registry, review
from course.grading.base import InvalidAnswer
from course.models import Attempt, ScoreChange, User
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services import progress

FEEDBACK_MAX_LENGTH = 10_000
REGRADE_BATCH = 500


class ReviewConflict(Exception):
    """Someone saved this attempt after the reviewer's form was loaded."""


class ReviewInvalid(ValueError):
    """The review cannot be saved as given; `problems` are messages for the instructor."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class AttemptNotFound(LookupError):
    """No attempt has this id."""


class NothingToRegrade(ValueError):
    """Written work is graded by people; there is no answer key to re-run."""


def _rubric_record(exercise: Exercise, levels: Mapping[str, Any]) -> dict[str, Any]:
    """Score the chosen levels and keep them with the result, so the learner's page and a
    later regrade read the rubric score without the form."""
    try:
        result = review.score_rubric(registry.kind_of(exercise).rubric(exercise.spec),
                                     levels)
    except InvalidAnswer as exc:
        raise ReviewInvalid(exc.problems) from exc
    return {"levels": {i.item_id: i.credit for i in result.items},
            "points": result.points, "max_points": result.max_points, "score": result.score}


def save_review(session: Session, attempt_id: int, reviewer_id: int, expected_revision: int,
                rubric_levels: Mapping[str, Any] | None, feedback_markdown: str,
                override_score: float | None, reason: str, *, course: Course) -> Attempt:
    """Store an instructor's review of one attempt and commit.

    `rubric_levels` (criterion id -> level points) grades a review-kind attempt.
    `override_score` (0 to 1) replaces the score of any attempt and needs a `reason`
    unless it only repeats the override already in place. Raises AttemptNotFound,
    ReviewInvalid (nothing stored) or ReviewConflict (someone else saved first).
    """
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise AttemptNotFound(attempt_id)
    if attempt.revision != expected_revision:
        raise ReviewConflict(attempt_id)
    exercise = course.exercise(attempt.exercise_id)
    reason = reason.strip()
    problems = []

    rubric = attempt.rubric
    if rubric_levels is not None:
        if exercise is None or not registry.kind_of(exercise).rubric(exercise.spec):
            problems.append("Only written assignments are graded with a rubric.")
        else:
            try:
                rubric = _rubric_record(exercise, rubric_levels)
            except ReviewInvalid as exc:
                problems.extend(exc.problems)
    elif (exercise is not None and registry.kind_of(exercise).rubric(exercise.spec)
          and rubric is None):
        problems.append("Choose a level for every rubric criterion.")

    if override_score is not None and not (
            math.isfinite(override_score) and 0 <= override_score <= 1):
        problems.append("An override score must be between 0% and 100%.")
    new_override = override_score is not None and not (
        attempt.overridden and attempt.score == override_score)
    if new_override and not reason:
        problems.append("Give a reason for overriding the score.")
    if len(feedback_markdown) > FEEDBACK_MAX_LENGTH:
        problems.append(f"Keep the feedback under {FEEDBACK_MAX_LENGTH:,} characters.")
    if problems:
        raise ReviewInvalid(problems)

    old_score = attempt.score
    base_score = rubric["score"] if rubric is not None else attempt.auto_score
    score = override_score if override_score is not None else base_score
    # An exercise that left the course has no pass mark: keep what was decided.
    passed = (attempt.passed if exercise is None
              else score is not None and score >= exercise.policy.pass_mark)
    # Written work has no machine score: its points are the rubric's.
    points = ({"points": rubric["points"], "max_points": rubric["max_points"]}
              if rubric is not None else {})
    now = utcnow()
    done = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.revision == expected_revision)
        .values(**points, status=AttemptStatus.REVIEWED.value, rubric=rubric, score=score,
                passed=passed, overridden=override_score is not None,
                instructor_feedback=feedback_markdown.strip() or None,
                reviewer_id=reviewer_id, reviewed_at=now, feedback_unread=True,
                revision=Attempt.revision + 1)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.rollback()
        raise ReviewConflict(attempt_id)
    if score != old_score or (override_score is not None) != attempt.overridden:
        session.add(ScoreChange(
            attempt_id=attempt_id, changed_by_id=reviewer_id, changed_at=now,
            kind="override" if override_score is not None else "review",
            old_score=old_score, new_score=score, reason=reason))
    if passed and exercise is not None:
        progress.mark_complete(session, attempt.user_id, exercise.id)
    session.commit()
    session.refresh(attempt)
    return attempt


# -------------------------------------------------------------------- learner side


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


def read_feedback(session: Session, attempt: Attempt,
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
        attempt.feedback_unread = False
    return InstructorFeedback(
        reviewer_name=reviewer_name, reviewed_at=attempt.reviewed_at, score=attempt.score,
        overridden=attempt.overridden, rubric=_rubric_choices(exercise, attempt.rubric),
        feedback_markdown=attempt.instructor_feedback or "")


def exercises_with_new_feedback(session: Session, user_id: int) -> set[str]:
    """Ids of exercises where the learner has feedback they have not opened (one query)."""
    return set(session.scalars(select(Attempt.exercise_id).distinct().where(
        Attempt.user_id == user_id, Attempt.feedback_unread.is_(True))))


# -------------------------------------------------------------------------- regrade


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


def regrade_exercise(session: Session, exercise: Exercise,
                     changed_by_id: int | None) -> RegradeReport:
    """Re-score every stored attempt of `exercise` against the exercise as it is now; commit.

    Attempts are read in keyset batches, so memory stays flat at any size. The machine's
    score and feedback are always refreshed; the counted score follows them unless an
    instructor overrode it. An answer that no longer fits the exercise (an item was
    removed, say) is left as it was and reported, not fatal. Written work (kind review)
    has no answer key to regrade against: NothingToRegrade.
    """
    if not exercise.auto_graded:
        raise NothingToRegrade(exercise.id)
    report = RegradeReport(exercise)
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
            break
        last_id = rows[-1].id
        now = utcnow()
        for row in rows:
            _regrade_one(session, exercise, row, changed_by_id, now, report)
        session.flush()
    session.commit()
    return report


def _regrade_one(session: Session, exercise: Exercise, row: Any, changed_by_id: int | None,
                 now: datetime, report: RegradeReport) -> None:
    def change(old: float | None, new: float | None) -> Change:
        return Change(row.id, row.display_name, row.number, old, new)

    problems = registry.validate(exercise, row.answer)
    if problems:
        report.failed.append((change(row.score, None), " ".join(problems)))
        return
    result = registry.grade(exercise, row.answer)
    score = row.score if row.overridden else result.score
    passed = row.passed if row.overridden else score >= exercise.policy.pass_mark
    done = session.execute(
        update(Attempt)
        .where(Attempt.id == row.id, Attempt.revision == row.revision)
        .values(auto_score=result.score, points=result.points, max_points=result.max_points,
                feedback=result.feedback_json(), score=score, passed=passed,
                regraded_at=now, revision=Attempt.revision + 1)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        report.failed.append((change(row.score, None),
                              "An instructor saved this attempt during the regrade."))
        return
    report.regraded += 1
    if row.overridden and result.score != row.auto_score:
        report.kept.append(change(row.score, result.score))
    if score != row.score:
        report.changed.append(change(row.score, score))
        session.add(ScoreChange(attempt_id=row.id, changed_by_id=changed_by_id,
                                changed_at=now, kind="regrade", old_score=row.score,
                                new_score=score, reason="Regraded against the current "
                                "version of the exercise."))
        if passed:
            progress.mark_complete(session, row.user_id, exercise.id)
