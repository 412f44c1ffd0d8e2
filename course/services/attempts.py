"""Attempts: submitting an answer to an exercise, and reading back what a learner did.

`submit` is the only way an attempt is stored: it checks the form against the exercise,
grades it through the registry, records the attempt and (on a pass) the step's
completion, and commits once. The read helpers decide what counts (which attempt, how many
are left, when the model answer may be shown) so that views and templates only display.
Nothing here imports Flask: the session is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
    insert,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased

from course import caches
from course.content.schema import AttemptPolicy, Course, Exercise, LessonSection
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.models import Attempt, LearnerExercise, StepProgress
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services.aggregates import upkeep as aggregates

# Form fields as (name, value) pairs, repeated names allowed (a MultiDict's items).
MultiValues = list[tuple[str, str]]


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
            # aggregates.lock_learners): nothing of it was stored, and once the other
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

    One INSERT on the connection: the ORM's unit of work (flush, identity map, reading the
    defaults back) cost more than the statement for an object that is never changed."""
    attempt.id = session.connection().execute(
        _INSERT_ATTEMPT, {name: getattr(attempt, name) for name in _NEW_COLUMNS}).scalar_one()
    aggregates.after_submission(session, exercise, attempt, kept)
    session.commit()


# ------------------------------------------------------------------------ reading


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
    # On the connection: a plain row needs none of the ORM's result handling, which cost
    # more than the query.
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
    (marking feedback read and storing a self-assessment are UPDATEs by id), and loading
    the model cost the ORM's entity handling on every view of an attempt."""

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
    attempt page shows both); None for anybody else's. One query: asked apart, the
    standing was a third of the page's statements."""
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
    with the page. Asked apart, on PostgreSQL the second round trip cost more than the
    rows.
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
    drafts) stay in the database. Plain rows, read on the connection: the ORM's objects
    and result handling cost more than the query.
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


def retry_fields(exercise: Exercise, answer: Mapping[str, Any]) -> MultiValues:
    """An attempt's answer as form fields, so a retry starts from what the learner last
    submitted instead of a blank form."""
    fields = registry.form_from_answer(exercise, answer)
    return [(name, value) for name, values in fields.items() for value in values]


def spends_last_attempt(policy: AttemptPolicy, used: int) -> bool:
    """Whether the next submission uses the final attempt (also the first and only one
    of a one-attempt exercise): the learner confirms it first, since afterwards the
    exercise is closed to them."""
    return attempts_left(policy, used) == 1


def learner_progress(session: Session, user_id: int, course: Course
                     ) -> tuple[set[str], dict[str, Summary]]:
    """The steps the learner has completed and, by id, a summary of every exercise they
    have tried: one query on their maintained aggregates (course.services.aggregates),
    however many attempts they made. The course home, My progress and the results need
    both, and a second round trip cost more than its rows."""
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


def attempts_left(policy: AttemptPolicy, used: int) -> int | None:
    """How many more submissions the policy allows; None means unlimited."""
    if policy.max_attempts is None:
        return None
    return max(0, policy.max_attempts - used)


def model_answer_visible(policy: AttemptPolicy, used: int, passed: bool) -> bool:
    """Whether the learner may now see the model answer and the full explanations, after
    `used` attempts of which at least one `passed` (or none did).

    Before that they only get hints, so a wrong answer is explained without being given
    away while they can still try again.
    """
    if policy.model_answer == "never":
        return False
    out_of_attempts = attempts_left(policy, used) == 0
    if policy.model_answer == "after_pass":
        return passed
    if policy.model_answer == "after_last_attempt":
        return out_of_attempts
    return passed or out_of_attempts


# ---------------------------------------------------------------- the attempt page


@dataclass(frozen=True)
class ItemReport:
    """One graded item, card or question, with only what the learner may see now.

    `mark` is "right", "partial" or "wrong". `message` is the explanation when the item
    is right or the model answer is visible, else the hint; `expected` is empty while the
    answer is hidden.
    """

    id: str
    text: str
    mark: str
    credit: float
    max_credit: float
    given: tuple[str, ...]
    given_labels: tuple[str, ...]
    expected: tuple[str, ...]
    expected_labels: tuple[str, ...]
    message: str
    details: tuple[Any, ...] = ()  # the kind's own parts (a question's options)
    lessons: tuple[LessonSection, ...] = ()  # where the course teaches what this checks


@dataclass(frozen=True)
class AttemptReport:
    """Everything the attempt page needs, decided here rather than in a template."""

    exercise: Exercise
    attempt: Attempt | OwnAttempt
    answer_visible: bool
    attempts_used: int
    attempts_left: int | None
    items: tuple[ItemReport, ...]
    rules: tuple[dict[str, Any], ...]
    columns: tuple[tuple[str, str], ...]  # bucket or column id, label (boards only)
    # item id -> what the model answer gives for it, once visible (empty until then)
    reference: Mapping[str, tuple[str, ...]]
    # The answer's canonical JSON when the report was worked out from it and the exercise
    # as loaded (auto-graded, current version), so equal keys, equal reports; else None.
    answer_key: str | None = None

    @property
    def differences(self) -> tuple[ItemReport, ...]:
        """Items answered otherwise than in the model answer (shown with the answer)."""
        return tuple(i for i in self.items
                     if i.id in self.reference and i.given != self.reference[i.id])

    @property
    def can_retry(self) -> bool:
        return self.attempts_left is None or self.attempts_left > 0

    @property
    def to_review(self) -> tuple[ItemReport, ...]:
        """Items not fully right: what the result page leads with."""
        return tuple(i for i in self.items if i.mark != "right")

    @property
    def lessons_to_revisit(self) -> tuple[LessonSection, ...]:
        """The lesson sections behind every item to review, without repeats."""
        return tuple(dict.fromkeys(s for i in self.to_review for s in i.lessons))


def _mark(credit: float, max_credit: float) -> str:
    if credit >= max_credit:
        return "right"
    return "partial" if credit > 0 else "wrong"


def _current_feedback(exercise: Exercise, attempt: Attempt | OwnAttempt
                      ) -> tuple[dict[str, Any], str | None]:
    """The attempt's feedback with the hints, explanations and rule messages as the file
    words them now, and the answer's key when it was re-graded so.

    The version changes only when grading does (course.content.fields), so an attempt of
    the current version re-grades to the same credit; only its wording can differ from
    what was stored, and a fixed typo should show everywhere at once.
    """
    if attempt.exercise_version != exercise.version or not exercise.auto_graded:
        return attempt.feedback, None
    key = answer_key(attempt.answer)
    regraded = _regraded(exercise, id(exercise.spec), key)
    return (attempt.feedback, None) if regraded is None else (regraded, key)


def answer_key(answer: Any) -> str:
    """An answer as canonical JSON: equal answers, equal keys."""
    return json.dumps(answer, sort_keys=True)


def _regraded(exercise: Exercise, spec_id: int, answer_json: str) -> dict[str, Any] | None:
    """The answer's feedback graded again (kept: caches.REGRADED_FEEDBACK)."""

    def grade() -> dict[str, Any] | None:
        try:
            return registry.grade(exercise, json.loads(answer_json)).feedback_json()
        except InvalidAnswer:
            return None

    return caches.REGRADED_FEEDBACK.kept((exercise, spec_id, answer_json), grade)


def attempt_report(exercise: Exercise, attempt: Attempt | OwnAttempt, standing: Standing,
                   reveal: bool = False, course: Course | None = None) -> AttemptReport:
    """Build the attempt page's content from the stored feedback.

    `standing` is the learner's on the whole exercise: whether the answer may be shown
    depends on every attempt (a later pass reveals it on earlier attempts too).
    Items are described with the exercise's current texts, falling back to ids for
    anything a newer version of the file removed. `reveal` shows every explanation and
    the model answer whatever the policy says (for instructors). With `course`, each item
    that is not right links to the lesson sections teaching the facts it checks.
    """
    visible = reveal or model_answer_visible(exercise.policy, standing.used, standing.passed)
    feedback, key = _current_feedback(exercise, attempt)
    items = (_items(exercise, feedback, visible, course) if key is None
             else _kept_items(exercise, feedback, key, visible, course))
    return AttemptReport(
        exercise=exercise, attempt=attempt, answer_visible=visible,
        attempts_used=standing.used,
        attempts_left=attempts_left(exercise.policy, standing.used),
        items=items, rules=tuple(feedback.get("rules", [])),
        columns=tuple(registry.kind_of(exercise).answer_labels(exercise.spec).items()),
        reference=_reference(exercise, id(exercise.spec)) if visible else {},
        answer_key=key)


def _items(exercise: Exercise, feedback: Mapping[str, Any], visible: bool,
           course: Course | None) -> tuple[ItemReport, ...]:
    kind = registry.kind_of(exercise)
    texts, labels = kind.item_texts(exercise.spec), kind.answer_labels(exercise.spec)
    items = []
    for fb in feedback.get("items", []):
        given, expected = tuple(fb["given"]), tuple(fb["expected"])
        mark = _mark(fb["credit"], fb["max_credit"])
        show = visible or mark == "right"
        items.append(ItemReport(
            id=fb["item_id"], text=texts.get(fb["item_id"], fb["item_id"]), mark=mark,
            credit=fb["credit"], max_credit=fb["max_credit"], given=given,
            given_labels=tuple(labels.get(g, g) for g in given),
            expected=expected if show else (),
            expected_labels=tuple(labels.get(e, e) for e in expected) if show else (),
            message=fb["explanation"] if show else fb["hint"],
            details=kind.item_details(exercise.spec, fb["item_id"], given, show),
            lessons=(course.review_sections(exercise, fb["item_id"])
                     if course is not None and mark != "right" else ())))
    return tuple(items)


def _kept_items(exercise: Exercise, feedback: Mapping[str, Any], key: str, visible: bool,
                course: Course | None) -> tuple[ItemReport, ...]:
    """The items of a report worked out from the answer (`key`, see _current_feedback),
    kept (caches.ATTEMPT_ITEMS). Callers only read them."""
    return caches.ATTEMPT_ITEMS.kept(
        (exercise, id(exercise.spec), key, visible, course is not None),
        lambda: _items(exercise, feedback, visible, course))


def _reference(exercise: Exercise, spec_id: int) -> dict[str, tuple[str, ...]]:
    """Item id -> the model answer's choice for it, read from the model answer's own
    feedback so it is the same for every kind (none for work a person grades); kept
    (caches.MODEL_ANSWERS). Callers only read it."""

    def choices() -> dict[str, tuple[str, ...]]:
        model = registry.model_answer(exercise)
        if model is None:
            return {}
        return {i.item_id: i.given for i in registry.grade(exercise, model).items}

    return caches.MODEL_ANSWERS.kept((exercise, spec_id), choices)
