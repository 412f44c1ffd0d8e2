"""Instructor review: grading with a rubric, overriding scores, feedback, and regrading.

Every change to an attempt's score goes through here so that each one lands in the
ScoreChange audit trail. A saved review is a draft (`Attempt.draft`) the learner cannot
see; releasing it copies it into the attempt's counted score and feedback and records
the release in the audit trail. Saving is one conditional UPDATE on the attempt's
`revision`: when two instructors edit the same submission, the second save matches no
row and is refused (ReviewConflict) instead of silently overwriting the first. Release
and regrade bump the revision too, so a form opened before either is refused as well.
Nothing here imports Flask: the session is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.grading import registry, review
from course.grading.base import InvalidAnswer, Result
from course.models import Attempt, ScoreChange, User
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services import aggregates, progress
from course.services.attempts import OwnAttempt
from course.services.sign_ins import NEW_FEEDBACK

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
class Released:
    """A review the learner can now see: whom to tell, about which attempt."""

    attempt_id: int
    user_id: int
    exercise_id: str
    number: int


# Called with the releases of a unit of work before it commits, to add what goes with
# them to the same transaction (the learners' emails, in the mail queue).
Announce = Callable[[Session, Sequence[Released]], None]


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
        result = review.score_rubric(registry.kind_of(exercise).rubric(exercise.spec),
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
            released = _release_one(session, fresh, reviewer_id, course)
    if released is not None and announce is not None:
        announce(session, [released])
    session.commit()
    session.refresh(attempt)
    return SaveResult(attempt, released)


# -------------------------------------------------------------------------- release


def _release_one(session: Session, attempt: Attempt, released_by_id: int,
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
    if draft["passed"] and exercise is not None:
        progress.mark_complete(session, attempt.user_id, attempt.exercise_id)
    if exercise is not None:  # `attempt` still holds the status from before the UPDATE
        aggregates.after_change(session, exercise, [attempt.user_id], left=(
            [attempt.answer] if attempt.status == AttemptStatus.AUTO_GRADED else []))
    return Released(attempt.id, attempt.user_id, attempt.exercise_id, attempt.number)


def release_reviews(session: Session, released_by_id: int, *, course: Course,
                    attempt_id: int | None = None, exercise_id: str | None = None,
                    announce: Announce | None = None) -> list[Released]:
    """Release the draft of one attempt, or every draft of an exercise; commit.

    One query finds the drafts (over ix_attempts_exercise_draft), then one UPDATE and
    one audit row each. A draft saved again meanwhile is skipped, not overwritten.
    `announce` gets the releases before the commit, so what it adds commits with them.
    """
    query = select(Attempt).where(Attempt.draft_saved_at.is_not(None))
    if attempt_id is not None:
        query = query.where(Attempt.id == attempt_id)
    if exercise_id is not None:
        query = query.where(Attempt.exercise_id == exercise_id)
    # The drafts, and then their learners' rows, locked before the first release takes
    # an exercise's totals (aggregates.lock_learners).
    drafts = session.scalars(query.order_by(Attempt.id).with_for_update()).all()
    if len(drafts) > 1:
        aggregates.lock_learners(session, [(a.exercise_id, a.user_id) for a in drafts])
    released = [done for attempt in drafts
                if (done := _release_one(session, attempt, released_by_id, course))]
    if released and announce is not None:
        announce(session, released)
    session.commit()
    return released


def count_drafts(session: Session, exercise_id: str) -> int:
    """Reviewed drafts of one exercise waiting for release (one query)."""
    return session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.exercise_id == exercise_id, Attempt.draft_saved_at.is_not(None))) or 0


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
    aggregates.before_regrade(session, exercise.id)
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
        aggregates.after_change(session, exercise, {row.user_id for row in rows})
    if regraded:  # with no attempts, the item counts are those of answers since: theirs
        aggregates.after_regrade(session, exercise)
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
        if rescored.passed:
            progress.mark_complete(session, row.user_id, exercise.id)
    return True
