"""The aggregates brought in line by each change, in the change's own transaction.

Submitting, reviewing, overriding, releasing and regrading call `after_change` (a new
attempt `after_submission`) once, after flushing their change to the attempts and
before their commit (a regrade also `after_regrade`, to count item verdicts against the
new key), so a report never sees an attempt without its aggregates or the other way
round; deleting an account calls `forget_learner` before its attempts go. The callers
commit.

Upkeep per change: one statement that locks the learner's row for the exercise (and
reads it as it was), one or two grouped queries over that learner's attempts at that
exercise on the covering index ix_attempts_learner_scores, one update, and one upsert of
the exercise's totals; plus one upsert of item counts when answers enter or leave the
misconceptions report, and one of the daily activity when an attempt is submitted or a
learner's first pass appears, goes or moves to another day. The order in which these
rows are taken is in course.services.aggregates.locks. Each learner's gradebook sort
keys are noted as they change (course.services.learner_keys), and an exercise's
completion (step_progress), a copy of the learner's `ever_passed`, is written whenever
a change flips it (course.services.progress.follow_passes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.models import Attempt, ItemOutcome, LearnerExercise
from course.services import progress
from course.services.aggregates.counts import add_days, add_item_counts, add_totals
from course.services.aggregates.rows import (
    AUTO_GRADED,
    AWAITING,
    DAY,
    EMPTY_LEARNER,
    LEARNERS,
    TOTALS,
    computed,
    outcomes,
    stored_outcomes,
    table_of,
    totals_of,
)
from course.services.learner_keys import note_learner, on_engine, per_engine

# The columns of a learner's row that the upkeep reads and writes (the `kept` row of
# `after_submission`, as its caller reads it).
LEARNER_COLUMNS = ("attempts", "awaiting", "auto_graded", "score", "passed", "ever_passed",
                   "first_passed_on")


def after_change(session: Session, exercise: Exercise, user_ids: Iterable[int], *,
                 entered: Sequence[Mapping[str, Any]] = (),
                 left: Sequence[Mapping[str, Any]] = (),
                 submitted: Sequence[datetime] = ()) -> None:
    """Bring the aggregates in line after attempts of `exercise` by these learners were
    added or rescored; `entered` and `left` are answers of attempts that became or
    stopped being machine-graded (a new auto-graded attempt; one an instructor reviewed),
    whose verdicts the misconceptions report counts; `submitted` the creation times of
    new attempts, which the activity chart counts per day. Runs in the caller's
    transaction; the caller commits."""
    session.flush()
    days: Counter[tuple[date, str]] = Counter(
        {(when.date(), "attempts"): n for when, n in Counter(submitted).items()})
    users = sorted(set(user_ids))
    if users:
        old = _lock_learners(session, exercise.id, users)
        new = computed(session, [exercise], users)
        days.update(_write_learners(session, exercise.id, old, new))
    add_days(session, exercise.id, days)
    counts: Counter[tuple[str, str]] = Counter()
    for answer in entered:
        counts.update(outcomes(exercise, answer))
    for answer in left:
        counts.subtract(outcomes(exercise, answer))
    add_item_counts(session, exercise.id, counts)


def after_submission(session: Session, exercise: Exercise, attempt: Attempt,
                     kept: Mapping[str, Any] | None = None) -> None:
    """after_change for one new attempt, stored (flushed) as its learner's newest: their
    row is worked out from the row as it was and the attempt, without reading their
    earlier attempts again, so a submission's upkeep does not grow with their number
    (the same rows as rows.computed, checked against a rebuild in the tests).

    `kept` is the learner's row (LEARNER_COLUMNS) as the caller read it before grading,
    None when they had none. While the row is still that, one UPDATE conditional on every
    column both checks and replaces it (it waits for, then re-checks against, a change
    that got there first), instead of locking and reading it and then writing it; when
    it changed in between, or there is none yet, it is locked and read first."""
    user, counts = attempt.user_id, exercise.policy.counts
    written = False
    if kept is not None:
        after = _with_newest(kept, attempt, counts)
        written = _replaced(session, exercise.id, user, kept, after)
    if written:
        old = {user: dict(kept or {})}
    else:
        old = _lock_learners(session, exercise.id, [user])
        after = _with_newest(old[user], attempt, counts)
    days: Counter[tuple[date, str]] = Counter({(attempt.created_at.date(), "attempts"): 1})
    days.update(_write_learners(session, exercise.id, old, {(user, exercise.id): after},
                                written=written))
    add_days(session, exercise.id, days)
    if attempt.status == AUTO_GRADED:
        add_item_counts(session, exercise.id, outcomes(exercise, attempt.answer))


def _with_newest(row: Mapping[str, Any], attempt: Attempt, counts: str) -> dict[str, Any]:
    """A learner's row once `attempt`, numbered after all their others, is added."""
    after = dict(row)
    after["attempts"] = row["attempts"] + 1
    after["awaiting"] = row["awaiting"] + (attempt.status == AWAITING)
    after["auto_graded"] = row["auto_graded"] + (attempt.status == AUTO_GRADED)
    after["ever_passed"] = bool(row["ever_passed"]) or attempt.passed
    if attempt.passed:
        day = attempt.created_at.date()
        first = row["first_passed_on"]
        after["first_passed_on"] = day if first is None else min(first, day)
    if attempt.score is not None:
        if counts == "latest":  # the scored attempt with the highest number: this one
            after["score"], after["passed"] = attempt.score, attempt.passed
        else:  # max(score), passed when any attempt passed
            after["score"] = (attempt.score if row["score"] is None
                              else max(row["score"], attempt.score))
    if counts != "latest":
        after["passed"] = after["ever_passed"]
    return after


def after_regrade(session: Session, exercise: Exercise) -> None:
    """Count the exercise's item outcomes again, since its answer key may have changed
    (in the regrade's transaction; the caller commits).

    Only after `after_change` has taken the exercise's totals: every change that adds
    item counts takes them before it does, so none adds between the delete and the
    recount (which, on PostgreSQL, would see its attempt once committed: counted twice).
    """
    session.execute(delete(ItemOutcome).where(ItemOutcome.exercise_id == exercise.id))
    add_item_counts(session, exercise.id, stored_outcomes(session, exercise))


def forget_learner(session: Session, course: Course, user_id: int) -> None:
    """Take a learner out of the aggregates before their attempts are deleted (in the
    deletion's transaction): their rows leave the totals, their answers the item counts."""
    table = table_of(LearnerExercise)
    days: dict[str, Counter[tuple[date, str]]] = {e.id: Counter() for e in course.exercises}
    for row in session.execute(delete(table).where(table.c.user_id == user_id)
                               .returning(table.c.exercise_id,
                                          *(table.c[c] for c in LEARNER_COLUMNS))):
        gone = totals_of({c: getattr(row, c) for c in LEARNER_COLUMNS})
        add_totals(session, row.exercise_id, {k: -v for k, v in gone.items()})
        if row.first_passed_on is not None and row.exercise_id in days:
            days[row.exercise_id][(row.first_passed_on, "completions")] -= 1
    for exercise_id, day, n in session.execute(
            select(Attempt.exercise_id, DAY, func.count())
            .where(Attempt.user_id == user_id, Attempt.exercise_id.in_(list(days)))
            .group_by(Attempt.exercise_id, DAY)):
        days[exercise_id][(day, "attempts")] -= n
    for exercise_id, change in days.items():
        add_days(session, exercise_id, change)
    for exercise in course.exercises:
        counts: Counter[tuple[str, str]] = Counter()
        answer: Any
        for answer in session.scalars(select(Attempt.answer).where(
                Attempt.user_id == user_id, Attempt.exercise_id == exercise.id,
                Attempt.status == AUTO_GRADED)):
            counts.subtract(outcomes(exercise, answer))
        add_item_counts(session, exercise.id, counts)


def _lock_statement(insert: Callable[[Table], Any]) -> Any:
    table = table_of(LearnerExercise)
    return insert(table).on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.exercise_id],
        set_={"attempts": table.c.attempts}).returning(
        table.c.user_id, *(table.c[c] for c in LEARNER_COLUMNS))


_LOCK_LEARNERS = per_engine(_lock_statement)


def _lock_learners(session: Session, exercise_id: str,
                   users: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each learner's row as it was (empty ones created), now locked until commit (in
    the order of `users`, so two changes lock shared learners in the same order)."""
    return {row.user_id: {c: getattr(row, c) for c in LEARNER_COLUMNS}
            for row in session.connection().execute(on_engine(session, _LOCK_LEARNERS), [
                {"user_id": u, "exercise_id": exercise_id, **EMPTY_LEARNER} for u in users])}


def _write_learners(session: Session, exercise_id: str, old: Mapping[int, dict[str, Any]],
                    new: Mapping[tuple[int, str], dict[str, Any]], *, written: bool = False
                    ) -> Counter[tuple[date, str]]:
    """Store the learners' new rows (unless already `written`) and the exercise's totals;
    returns the change to the days' completions (a first pass that appeared, went, or
    moved to another day)."""
    params = []
    change: dict[str, float] = dict.fromkeys(TOTALS, 0)
    days: Counter[tuple[date, str]] = Counter()
    for user_id, before in old.items():
        after = new.get((user_id, exercise_id), EMPTY_LEARNER)
        params.append({"uid": user_id, "eid": exercise_id, **after})
        for name, value in totals_of(after).items():
            change[name] += value
        for name, value in totals_of(before).items():
            change[name] -= value
        if before["first_passed_on"] != after["first_passed_on"]:
            if before["first_passed_on"] is not None:
                days[(before["first_passed_on"], "completions")] -= 1
            if after["first_passed_on"] is not None:
                days[(after["first_passed_on"], "completions")] += 1
    connection = session.connection()
    if not written:
        connection.execute(_UPDATE_LEARNER, params)
    # Only a learner whose attempts all went (or who never had one: _lock_learners made
    # their row) leaves an untried row; a submission never does, so it deletes nothing.
    untried = [{"uid": p["uid"], "eid": exercise_id} for p in params if not p["attempts"]]
    if untried:
        connection.execute(_DROP_UNTRIED, untried)
    add_totals(session, exercise_id, change)
    passes: dict[int, bool] = {}
    for user_id, before in old.items():
        after = new.get((user_id, exercise_id), EMPTY_LEARNER)
        note_learner(session, user_id, score_sum=_score_of(after) - _score_of(before),
                     awaiting=_awaiting_of(after) - _awaiting_of(before))
        if bool(before["ever_passed"]) != bool(after["ever_passed"]):
            passes[user_id] = bool(after["ever_passed"])
    # The step's completion is a copy of "some attempt passes", written with the row it
    # follows from, whichever change (submission, review, release, regrade) moved it.
    progress.follow_passes(session, exercise_id, passes)
    return days


def _score_of(row: Mapping[str, Any]) -> float:
    """What a learner's row adds to their gradebook total (0 until scored)."""
    return row["score"] if row["attempts"] and row["score"] is not None else 0.0


def _awaiting_of(row: Mapping[str, Any]) -> int:
    """1 when the learner tried the exercise and only work awaiting review is left."""
    return int(row["attempts"] > 0 and row["score"] is None)


_UPDATE_LEARNER = (update(LEARNERS)
                   .where(LEARNERS.c.user_id == bindparam("uid"),
                          LEARNERS.c.exercise_id == bindparam("eid"))
                   .values({c: bindparam(c) for c in LEARNER_COLUMNS}))
# The row replaced only while every column still holds what the caller read (IS NOT
# DISTINCT FROM, as the score and day may be NULL): see after_submission.
_REPLACE_LEARNER = _UPDATE_LEARNER.where(
    *(LEARNERS.c[c].is_not_distinct_from(bindparam("was_" + c)) for c in LEARNER_COLUMNS))


def _replaced(session: Session, exercise_id: str, user_id: int, was: Mapping[str, Any],
              row: Mapping[str, Any]) -> bool:
    """Replace the learner's row `was` by `row`; False when it no longer is `was`."""
    done = session.connection().execute(_REPLACE_LEARNER, {
        "uid": user_id, "eid": exercise_id, **row,
        **{"was_" + c: was[c] for c in LEARNER_COLUMNS}})
    return bool(done.rowcount == 1)


_DROP_UNTRIED = delete(LEARNERS).where(LEARNERS.c.user_id == bindparam("uid"),
                                       LEARNERS.c.exercise_id == bindparam("eid"),
                                       LEARNERS.c.attempts == 0)
