"""Submitting an answer to an exercise: the one path by which an attempt is stored.

`submit` checks the form against the exercise (its version, a resent form's token, the
attempt limit, the answer's fields), grades it through the registry, records the attempt
and keeps the report aggregates (on a pass, the step's completion), and commits once. It
lives apart from the reads so that what a submission checks and in which order reads in
one place, with the exceptions a view turns into its answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, insert, literal_column, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.models import Attempt, LearnerExercise
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services.aggregates import upkeep as aggregates
from course.services.attempts.policy import attempts_left
from course.services.attempts.reads import Standing


class StaleExercise(Exception):
    """The form was made for an older version of the exercise file."""


class AwaitingReview(Exception):
    """The learner's newest attempt is still waiting for an instructor: a new one would
    replace the work under review before they have any feedback to act on."""

    def __init__(self, last_attempt: Attempt | None):
        self.last_attempt = last_attempt
        super().__init__("the newest attempt awaits review")


class SubmissionClash(Exception):
    """Other submissions by the same learner kept taking the attempt number this one was
    given (many tabs posting at once): nothing was stored, and posting again will work."""


class AttemptLimitReached(Exception):
    """The learner has used every attempt the policy allows."""

    def __init__(self, last_attempt: Attempt | None):
        self.last_attempt = last_attempt
        super().__init__("no attempts left")


# How often one submission starts over when another of the same learner's took its attempt
# number first. Each clash means some other post of theirs was stored, so a few tries
# cover every tab a person can have open; past that the post gets a clear 409, not a 500.
CLASH_RETRIES = 5

_BY_TOKEN = select(Attempt.id).where(Attempt.user_id == bindparam("user_id"),
                                     Attempt.submission_token == bindparam("token"))


def _by_token(session: Session, user_id: int, token: str) -> Attempt | None:
    """The learner's attempt stored with `token` (asked again after a clash: the first ask
    is part of `before_submitting`)."""
    found = session.connection().scalar(_BY_TOKEN, {"user_id": user_id, "token": token})
    return _attempt(session, found)


def _attempt(session: Session, attempt_id: int | None) -> Attempt | None:
    return None if attempt_id is None else session.get(Attempt, attempt_id)


class Prior(NamedTuple):
    """What a submission checks before grading, read in one query: the learner's standing
    on the exercise, the id of their attempt stored with this form's token, if any (a
    resent form), and their kept report row on the exercise (aggregates.LEARNER_COLUMNS;
    None before their first attempt), from which the upkeep works out the new one."""

    standing: Standing
    resent: int | None
    kept: dict[str, Any] | None = None


def before_submitting(session: Session, user_id: int, exercise_id: str, token: str) -> Prior:
    """The standing, the resent attempt and the kept row (see Prior): one statement of
    index look-ups instead of two queries (one counting every attempt of the learner at
    the exercise).

    The count and whether any attempt passed come from the learner's report row, kept in
    the transaction of every change to their attempts (course.services.aggregates); the
    newest attempt by number, and the attempt with the token, from their unique indexes.
    A statement reads one snapshot, so the row and the attempts agree."""
    row = dict(zip(_PRIOR_COLUMNS, session.connection().execute(_PRIOR, {
        "user_id": user_id, "exercise_id": exercise_id, "token": token}).one(), strict=True))
    kept = None if row["attempts"] is None else {
        c: row[c] for c in aggregates.LEARNER_COLUMNS}
    return Prior(Standing(used=row["attempts"] or 0, passed=bool(row["ever_passed"]),
                          last_id=row["last_id"],
                          awaiting_review=row["last_status"] == AttemptStatus.AWAITING_REVIEW),
                 row["resent"], kept)


_KEPT = cast(Table, LearnerExercise.__table__)  # typed as the table it is
_NEWEST = (select(Attempt.id).where(Attempt.user_id == bindparam("user_id"),
                                    Attempt.exercise_id == bindparam("exercise_id"))
           .order_by(Attempt.number.desc()).limit(1))
# The kept row (an outer join from one row, so that a learner without one still gets a
# row of NULLs) and scalar subqueries, each a look-up on a unique index.
_PRIOR = select(
    *(_KEPT.c[c] for c in aggregates.LEARNER_COLUMNS),
    _NEWEST.scalar_subquery().label("last_id"),
    _NEWEST.with_only_columns(Attempt.status).scalar_subquery().label("last_status"),
    select(Attempt.id).where(Attempt.user_id == bindparam("user_id"),
                             Attempt.submission_token == bindparam("token"))
    .scalar_subquery().label("resent"),
).select_from(select(literal_column("1")).subquery("one").outerjoin(
    _KEPT, and_(_KEPT.c.user_id == bindparam("user_id"),
                _KEPT.c.exercise_id == bindparam("exercise_id"))))
_PRIOR_COLUMNS = (*aggregates.LEARNER_COLUMNS, "last_id", "last_status", "resent")


def submit(session: Session, user_id: int, exercise: Exercise,
           form: Mapping[str, Sequence[str]], token: str, version: str,
           known: Prior | None = None) -> Attempt:
    """Grade and store one submission; commit once.

    `form` holds only the answer fields (field -> every value posted). A token already
    used by this learner returns that attempt unchanged, before any other check, so a
    resent form gets the same answer even when it used the last attempt. `known` is what
    `before_submitting` told the caller just now (so it is not read again; a submission
    that raced another tab starts over with a fresh one). Raises
    StaleExercise, AttemptLimitReached, AwaitingReview, InvalidAnswer or SubmissionClash,
    storing nothing.
    """
    for _ in range(CLASH_RETRIES):
        try:
            return _submit_once(session, user_id, exercise, form, token, version, known)
        except IntegrityError:
            # Another tab took this attempt number: start over, so the limit and the
            # token are checked again against what that tab stored.
            known = None
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            # PostgreSQL chose this transaction to end a deadlock (say, with an
            # instructor's change that took this learner's rows: see
            # aggregates.locks.lock_learners): nothing of it was stored, and once the other
            # transaction is through, the same work succeeds.
            session.rollback()
            known = None
    raise SubmissionClash(exercise.id)


DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


def _submit_once(session: Session, user_id: int, exercise: Exercise,
                 form: Mapping[str, Sequence[str]], token: str, version: str,
                 known: Prior | None) -> Attempt:
    prior = known or before_submitting(session, user_id, exercise.id, token)
    existing = _attempt(session, prior.resent)
    if existing is not None:
        return existing
    if version != exercise.version:
        raise StaleExercise(exercise.id)
    try:
        used = _check_limit(session, exercise, prior.standing)
    except AttemptLimitReached:
        # The same form resent while its first post was being stored: that post took
        # the last attempt, and this one gets its answer rather than a refusal.
        existing = _by_token(session, user_id, token)
        if existing is not None:
            return existing
        raise
    answer = _checked_answer(exercise, form)
    attempt = _graded_attempt(exercise, answer, user_id, token, number=used + 1)
    try:
        _store(session, exercise, attempt, prior.kept)
    except IntegrityError:
        session.rollback()
        # The same form posted twice at once: the other request stored it first.
        existing = _by_token(session, user_id, token)
        if existing is not None:
            return existing
        raise
    return attempt


def _check_limit(session: Session, exercise: Exercise, used: Standing) -> int:
    """How many attempts the learner has used; AttemptLimitReached when none are left,
    AwaitingReview while their newest one waits for an instructor."""
    if attempts_left(exercise.policy, used.used) == 0:
        raise AttemptLimitReached(_newest(session, used))
    if used.awaiting_review:
        raise AwaitingReview(_newest(session, used))
    return used.used


def _newest(session: Session, used: Standing) -> Attempt | None:
    return session.get(Attempt, used.last_id) if used.last_id is not None else None


def _checked_answer(exercise: Exercise, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The answer read from the form's fields; InvalidAnswer for a field the exercise does
    not have."""
    # The graders ignore fields they do not read, so a tampered form with an extra field
    # would otherwise be graded as if it were fine; refusing it keeps "what was posted"
    # and "what was graded" the same thing.
    kind = registry.kind_of(exercise)
    unknown = sorted(name for name in form if not kind.is_answer_field(name))
    if unknown:
        raise InvalidAnswer([
            "The form has fields this exercise does not know ("
            + ", ".join(repr(n) for n in unknown) + "); reload the page and try again."])
    # Validated by the grader, which refuses what `registry.validate` would (InvalidAnswer)
    # before anything is stored: checking it here as well made every submission
    # validate twice.
    return dict(registry.answer_from_form(exercise, form))


def _graded_attempt(exercise: Exercise, answer: dict[str, Any], user_id: int, token: str,
                    number: int) -> Attempt:
    """A new, unsaved Attempt holding the answer and what the grader made of it;
    InvalidAnswer when the answer cannot be graded."""
    result = registry.grade(exercise, answer)
    score = None if result.pending else result.score
    return Attempt(
        user_id=user_id, exercise_id=exercise.id, exercise_version=exercise.version,
        number=number, submission_token=token, answer=answer, created_at=utcnow(),
        status=(AttemptStatus.AWAITING_REVIEW if result.pending
                else AttemptStatus.AUTO_GRADED).value,
        auto_score=score, score=score, points=result.points, max_points=result.max_points,
        feedback=result.feedback_json(),
        passed=score is not None and score >= exercise.policy.pass_mark,
        overridden=False, feedback_unread=False, revision=1)


# What a new attempt is stored with (the other columns start empty).
_NEW_COLUMNS = ("user_id", "exercise_id", "exercise_version", "number", "submission_token",
                "answer", "status", "auto_score", "score", "points", "max_points",
                "feedback", "passed", "created_at", "overridden", "feedback_unread",
                "revision")
_INSERT_ATTEMPT = insert(Attempt).returning(Attempt.id)


def _store(session: Session, exercise: Exercise, attempt: Attempt,
           kept: dict[str, Any] | None) -> None:
    """Insert the attempt, keep the aggregates (from `kept`, the learner's row as read
    before grading; they complete the step on a first pass) and commit (IntegrityError on a clash of
    token or number). `attempt` gets its id but stays out of the session.

    One INSERT on the connection: the object is never changed once stored, so the ORM's
    unit of work (flush, identity map, reading the defaults back) would add nothing."""
    attempt.id = session.connection().execute(
        _INSERT_ATTEMPT, {name: getattr(attempt, name) for name in _NEW_COLUMNS}).scalar_one()
    aggregates.after_submission(session, exercise, attempt, kept)
    session.commit()
