"""Report aggregates kept in step with the attempts, in the same transaction as each change.

Submitting, reviewing, overriding and regrading call `after_change` once, after flushing
their change to the attempts and before their commit (a regrade also `after_regrade`, to
count item verdicts against the new key), so a report never sees an attempt without its
aggregates or the other way round. `rebuild` recomputes everything from the
attempts (`flask --app course rebuild-aggregates`); tests check that the two always agree.

Upkeep per change: one statement that locks the learner's row for the exercise (and reads
it as it was), one or two grouped queries over that learner's attempts at that exercise
on the covering index ix_attempts_learner_scores, one update, and one upsert of the
exercise's totals; plus one upsert of item counts when answers enter or leave the
misconceptions report, and one of the daily activity when an attempt is submitted or a
learner's first pass appears, goes or moves to another day. Locking the learner's row
first means two changes to the same learner and exercise are applied one after the
other, each seeing the other's attempts, on PostgreSQL as on SQLite (whose writers are
serialised anyway). A submission reads the learner's row before grading and replaces it
with one UPDATE conditional on the row still being what it read (`after_submission`),
locking and reading it only when it changed. Rows are taken in one order by every
change: attempts, learners' rows, then the exercise's totals, days and item counts; a
change to many learners takes all its attempts and learners' rows first
(`before_regrade`, `lock_learners`), and a submission PostgreSQL still picks to end a
deadlock is made again (course.services.attempts.submit). Each learner's gradebook sort
keys (on their account) are added to once per transaction, as it commits
(`note_learner`), and the number of learners as accounts are made and deleted
(`add_learners`).
Nothing here imports Flask.
"""

from __future__ import annotations

import json
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.db import Base
from course.grading import registry
from course.models import (
    Attempt,
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerCount,
    LearnerExercise,
    StepProgress,
    User,
)
from course.models.attempt import AttemptStatus
from course.models.user import Role

AWAITING = AttemptStatus.AWAITING_REVIEW.value
AUTO_GRADED = AttemptStatus.AUTO_GRADED.value
# Outcomes of an item besides the kinds' mistake classes (ids, which have no colon).
CORRECT = ":correct"
WRONG = ":wrong"
BATCH = 2000
# Lower edges of the score-distribution bands 1 to 4 (band 0 starts at 0): 0-19%, 20-39%,
# 40-59%, 60-79%, 80-100%, each counted in ExerciseTotals.band_<n>.
BAND_EDGES = (0.2, 0.4, 0.6, 0.8)
BANDS = tuple(f"band_{n}" for n in range(len(BAND_EDGES) + 1))

def _table(model: type[Base]) -> Table:
    """A model's table, typed as one (the declarative attribute is a plain FromClause)."""
    return typing.cast(Table, model.__table__)


LEARNER_COLUMNS = ("attempts", "awaiting", "auto_graded", "score", "passed", "ever_passed",
                   "first_passed_on")
EMPTY_LEARNER: dict[str, Any] = {"attempts": 0, "awaiting": 0, "auto_graded": 0,
                                 "first_passed_on": None,
                                 "score": None, "passed": False, "ever_passed": False}


def outcomes(exercise: Exercise, answer: Any) -> Counter[tuple[str, str]]:
    """(item id, outcome) -> 1 for what the kind's `classify` makes of one answer."""
    counts: Counter[tuple[str, str]] = Counter()
    for verdict in registry.kind_of(exercise).classify(exercise.spec, answer):
        counts[(verdict.item_id, CORRECT if verdict.correct else WRONG)] += 1
        for mistake in verdict.mistakes:
            counts[(verdict.item_id, mistake)] += 1
    return counts


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
        new = _computed(session, [exercise], users)
        days.update(_write_learners(session, exercise.id, old, new))
    _add_days(session, exercise.id, days)
    counts: Counter[tuple[str, str]] = Counter()
    for answer in entered:
        counts.update(outcomes(exercise, answer))
    for answer in left:
        counts.subtract(outcomes(exercise, answer))
    _add_item_counts(session, exercise.id, counts)


def after_submission(session: Session, exercise: Exercise, attempt: Attempt,
                     kept: Mapping[str, Any] | None = None) -> None:
    """after_change for one new attempt, stored (flushed) as its learner's newest: their
    row is worked out from the row as it was and the attempt, without reading their
    earlier attempts again, so a submission's upkeep costs the same after 5 or 5,000 of
    them (the same rows as _computed, checked against a rebuild in the tests).

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
    _add_days(session, exercise.id, days)
    if attempt.status == AUTO_GRADED:
        _add_item_counts(session, exercise.id, outcomes(exercise, attempt.answer))


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


def before_regrade(session: Session, exercise_id: str) -> None:
    """Lock every attempt of the exercise, then every learner's row for it (each in id
    order), before a regrade changes any of them (see `lock_learners`). SQLite
    serialises writers, and its statements have no FOR UPDATE: there these are counts."""
    attempts = _table(Attempt)
    _lock_rows(session, attempts.c.id, attempts.c.exercise_id == exercise_id)
    _lock_rows(session, _LEARNERS.c.user_id, _LEARNERS.c.exercise_id == exercise_id)


def lock_learners(session: Session, learners: Iterable[tuple[str, int]]) -> None:
    """Lock these (exercise id, user id) rows, in that order, before a change to many
    learners takes the first exercise's totals; its attempts are locked already.

    Every change takes its rows in one order: the attempts, then the learners' rows, then
    the exercise's totals, daily activity and item counts. A change to many learners (a
    regrade, in batches; the release of an exercise's reviews, one by one) would
    otherwise hold the totals while it still had attempts and learners to take, which a
    submission (its learner, then the totals) or a review (the attempt, its learner,
    then the totals) in between holds: on PostgreSQL a deadlock that aborted one of them.
    They now wait for the change instead.
    """
    by_exercise: dict[str, list[int]] = {}
    for exercise_id, user_id in sorted(set(learners)):
        by_exercise.setdefault(exercise_id, []).append(user_id)
    for exercise_id, users in by_exercise.items():
        _lock_rows(session, _LEARNERS.c.user_id, _LEARNERS.c.exercise_id == exercise_id,
                   _LEARNERS.c.user_id.in_(users))


def _lock_rows(session: Session, order: Any, *where: Any) -> None:
    """Lock the rows of `order`'s table that match `where`, in `order` (FOR UPDATE in a
    count: the rows themselves are not needed)."""
    session.execute(select(func.count()).select_from(
        select(order).where(*where).order_by(order).with_for_update().subquery()))


def after_regrade(session: Session, exercise: Exercise) -> None:
    """Count the exercise's item outcomes again, since its answer key may have changed
    (in the regrade's transaction; the caller commits).

    Only after `after_change` has taken the exercise's totals: every change that adds
    item counts takes them before it does, so none adds between the delete and the
    recount (which, on PostgreSQL, would see its attempt once committed: counted twice).
    """
    session.execute(delete(ItemOutcome).where(ItemOutcome.exercise_id == exercise.id))
    _add_item_counts(session, exercise.id, _stored_outcomes(session, exercise))


def forget_learner(session: Session, course: Course, user_id: int) -> None:
    """Take a learner out of the aggregates before their attempts are deleted (in the
    deletion's transaction): their rows leave the totals, their answers the item counts."""
    table = _table(LearnerExercise)
    days: dict[str, Counter[tuple[date, str]]] = {e.id: Counter() for e in course.exercises}
    for row in session.execute(delete(table).where(table.c.user_id == user_id)
                               .returning(table.c.exercise_id,
                                          *(table.c[c] for c in LEARNER_COLUMNS))):
        gone = _totals_of({c: getattr(row, c) for c in LEARNER_COLUMNS})
        _add_totals(session, row.exercise_id, {k: -v for k, v in gone.items()})
        if row.first_passed_on is not None and row.exercise_id in days:
            days[row.exercise_id][(row.first_passed_on, "completions")] -= 1
    for exercise_id, day, n in session.execute(
            select(Attempt.exercise_id, DAY, func.count())
            .where(Attempt.user_id == user_id, Attempt.exercise_id.in_(list(days)))
            .group_by(Attempt.exercise_id, DAY)):
        days[exercise_id][(day, "attempts")] -= n
    for exercise_id, change in days.items():
        _add_days(session, exercise_id, change)
    for exercise in course.exercises:
        counts: Counter[tuple[str, str]] = Counter()
        answer: Any
        for answer in session.scalars(select(Attempt.answer).where(
                Attempt.user_id == user_id, Attempt.exercise_id == exercise.id,
                Attempt.status == AUTO_GRADED)):
            counts.subtract(outcomes(exercise, answer))
        _add_item_counts(session, exercise.id, counts)


# An attempt's UTC day (timestamps are stored as naive UTC), the same on both databases.
DAY = func.date(Attempt.created_at, type_=Date)


# The upkeep's statements are built once, with bound parameters, one per engine for the
# upserts (INSERT ... ON CONFLICT is spelled by each dialect's own insert): building a
# statement and computing its cache key on every submission cost more than running it
# (see course/services/__init__.py). They run on the session's connection, in its
# transaction: plain statements need none of the ORM's execution and result handling.
def per_engine(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """`build(insert)` for PostgreSQL's and SQLite's insert, by dialect name (also for
    course.services.progress)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def on_engine(session: Session, statements: Mapping[str, Any]) -> Any:
    """The statement of `per_engine` for the engine the session is on."""
    name = session.get_bind().dialect.name
    return statements["postgresql" if name == "postgresql" else "sqlite"]


def _adding(model: type[Base], keys: tuple[str, ...], columns: tuple[str, ...]
            ) -> dict[str, Any]:
    """Per engine: insert rows of `model`, or add their `columns` to those of the rows with
    the same `keys` (every kept count is an upsert of this shape); run by `_add_rows`.

    On PostgreSQL several rows come as one array per column, unnested by a single
    statement of fixed text (so psycopg parses it once and the server keeps it prepared):
    a submission of the final quiz adds to some 25 (item, outcome) counts, which psycopg
    ran as one execution per row, and a multi-row VALUES list is new text for psycopg to
    parse each time. A single row goes as VALUES (psycopg dumps arrays in Python). SQLite
    runs the statement once per row, in process. The rows of one call have distinct keys
    (each is a sum), as one statement needs on PostgreSQL."""
    table = _table(model)
    names = (*keys, *columns)

    def upsert(statement: Any) -> Any:
        return statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys],
            set_={c: table.c[c] + statement.excluded[c] for c in columns})

    rows = func.unnest(*(bindparam(n, type_=postgresql.ARRAY(table.c[n].type))
                         for n in names)).table_valued(*names).render_derived("new")
    return {"postgresql": upsert(postgresql.insert(table)),
            "postgresql rows": upsert(postgresql.insert(table).from_select(
                names, select(*(rows.c[n] for n in names)))),
            "sqlite": upsert(sqlite.insert(table))}


def _add_rows(connection: Any, statements: Mapping[str, Any],
              rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an `_adding` upsert for `rows` (each a value for every key and column)."""
    if connection.dialect.name != "postgresql":
        connection.execute(statements["sqlite"], rows)
    elif len(rows) == 1:
        connection.execute(statements["postgresql"], rows[0])
    else:
        connection.execute(statements["postgresql rows"],
                           {name: [row[name] for row in rows] for name in rows[0]})


def _lock_statement(insert: Callable[[Table], Any]) -> Any:
    table = _table(LearnerExercise)
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


_LEARNER_COUNTS = select(
    Attempt.user_id, Attempt.exercise_id, func.count().label("attempts"),
    func.sum(case((Attempt.status == AWAITING, 1), else_=0)).label("awaiting"),
    func.sum(case((Attempt.status == AUTO_GRADED, 1), else_=0)).label("auto_graded"),
    func.max(Attempt.score).label("score"),
    func.max(case((Attempt.passed, 1), else_=0)).label("passed"),
    func.min(case((Attempt.passed, Attempt.created_at))).label("first_pass"))
_OF_EXERCISES = Attempt.exercise_id.in_(bindparam("exercise_ids", expanding=True))
_OF_LEARNERS = Attempt.user_id.in_(bindparam("user_ids", expanding=True))
_BY_LEARNER = (Attempt.user_id, Attempt.exercise_id)


def _last_scored(*scope: Any) -> Any:
    """Score and pass of each learner's scored attempt with the highest number."""
    last = (select(Attempt.user_id, Attempt.exercise_id,
                   func.max(Attempt.number).label("number"))
            .where(Attempt.score.is_not(None), *scope).group_by(*_BY_LEARNER)
            .subquery("last_scored"))
    return (select(last.c.user_id, last.c.exercise_id, Attempt.score, Attempt.passed)
            .join(Attempt, and_(Attempt.user_id == last.c.user_id,
                                Attempt.exercise_id == last.c.exercise_id,
                                Attempt.number == last.c.number)))


# (grouped counts, last scored) over every learner, and over some learners.
_COMPUTED = {
    False: (_LEARNER_COUNTS.where(_OF_EXERCISES).group_by(*_BY_LEARNER),
            _last_scored(_OF_EXERCISES)),
    True: (_LEARNER_COUNTS.where(_OF_EXERCISES, _OF_LEARNERS).group_by(*_BY_LEARNER),
           _last_scored(_OF_EXERCISES, _OF_LEARNERS)),
}


def _computed(session: Session, exercises: Sequence[Exercise],
              user_ids: Sequence[int] | None = None) -> dict[tuple[int, str], dict[str, Any]]:
    """Each (learner, exercise)'s row computed from the attempts, for learners who tried.

    "highest" exercises count max(score), passed when any attempt passed, so a retry never
    lowers a grade; "latest" ones count the scored attempt with the highest number. Plain
    GROUP BY on the (user, exercise, number, ...) covering index, no window functions.
    """
    counts, last_scored = _COMPUTED[user_ids is not None]
    scope: dict[str, Any] = {"exercise_ids": [e.id for e in exercises]}
    if user_ids is not None:
        scope["user_ids"] = list(user_ids)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for row in session.execute(counts, scope):
        rows[(row.user_id, row.exercise_id)] = {
            "attempts": row.attempts, "awaiting": int(row.awaiting),
            "auto_graded": int(row.auto_graded), "score": row.score,
            "passed": bool(row.passed), "ever_passed": bool(row.passed),
            "first_passed_on": _day_of(row.first_pass)}
    latest = [e.id for e in exercises if e.policy.counts == "latest"]
    if latest:
        for key, values in rows.items():
            if key[1] in latest:
                values.update(score=None, passed=False)
        for row in session.execute(last_scored, {**scope, "exercise_ids": latest}):
            rows[(row.user_id, row.exercise_id)].update(score=row.score,
                                                        passed=bool(row.passed))
    return rows


def band_of(score: float) -> int:
    """The score-distribution band a counted score falls in (0 to len(BAND_EDGES))."""
    return sum(1 for edge in BAND_EDGES if score >= edge)


def _day_of(when: datetime | str | None) -> date | None:
    """The day of a timestamp from min() (SQLite may hand back the stored text)."""
    if when is None:
        return None
    return (datetime.fromisoformat(when) if isinstance(when, str) else when).date()


def _totals_of(row: Mapping[str, Any]) -> Counter[str]:
    """What one learner's row adds to its exercise's totals, histogram included."""
    tried = row["attempts"] > 0
    scored = tried and row["score"] is not None
    band = band_of(row["score"]) if scored else None
    return Counter({
        "attempts": row["attempts"], "awaiting": row["awaiting"],
        "auto_graded": row["auto_graded"], "learners": int(tried), "scored": int(scored),
        "score_sum": row["score"] if scored else 0.0,
        "passed": int(tried and row["passed"]),
        **{name: int(band == n) for n, name in enumerate(BANDS)}})


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
        for name, value in _totals_of(after).items():
            change[name] += value
        for name, value in _totals_of(before).items():
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
    _add_totals(session, exercise_id, change)
    for user_id, before in old.items():
        after = new.get((user_id, exercise_id), EMPTY_LEARNER)
        note_learner(session, user_id, score_sum=_score_of(after) - _score_of(before),
                     awaiting=_awaiting_of(after) - _awaiting_of(before))
    return days


def _score_of(row: Mapping[str, Any]) -> float:
    """What a learner's row adds to their gradebook total (0 until scored)."""
    return row["score"] if row["attempts"] and row["score"] is not None else 0.0


def _awaiting_of(row: Mapping[str, Any]) -> int:
    """1 when the learner tried the exercise and only work awaiting review is left."""
    return int(row["attempts"] > 0 and row["score"] is None)


_LEARNERS = _table(LearnerExercise)
_UPDATE_LEARNER = (update(_LEARNERS)
                   .where(_LEARNERS.c.user_id == bindparam("uid"),
                          _LEARNERS.c.exercise_id == bindparam("eid"))
                   .values({c: bindparam(c) for c in LEARNER_COLUMNS}))
# The row replaced only while every column still holds what the caller read (IS NOT
# DISTINCT FROM, as the score and day may be NULL): see after_submission.
_REPLACE_LEARNER = _UPDATE_LEARNER.where(
    *(_LEARNERS.c[c].is_not_distinct_from(bindparam("was_" + c)) for c in LEARNER_COLUMNS))


def _replaced(session: Session, exercise_id: str, user_id: int, was: Mapping[str, Any],
              row: Mapping[str, Any]) -> bool:
    """Replace the learner's row `was` by `row`; False when it no longer is `was`."""
    done = session.connection().execute(_REPLACE_LEARNER, {
        "uid": user_id, "eid": exercise_id, **row,
        **{"was_" + c: was[c] for c in LEARNER_COLUMNS}})
    return bool(done.rowcount == 1)


_DROP_UNTRIED = delete(_LEARNERS).where(_LEARNERS.c.user_id == bindparam("uid"),
                                        _LEARNERS.c.exercise_id == bindparam("eid"),
                                        _LEARNERS.c.attempts == 0)
# Every column of ExerciseTotals that a learner's row adds to.
TOTALS = tuple(_totals_of(EMPTY_LEARNER))


_ADD_TOTALS = _adding(ExerciseTotals, ("exercise_id",), TOTALS)


def _add_totals(session: Session, exercise_id: str, change: Mapping[str, float]) -> None:
    """Add `change` (a value for every name in TOTALS) to the exercise's totals."""
    _add_rows(session.connection(), _ADD_TOTALS,
              [{"exercise_id": exercise_id, **{name: change[name] for name in TOTALS}}])


def _add_days(session: Session, exercise_id: str,
              counts: Mapping[tuple[date, str], int]) -> None:
    """Add (day, "attempts" or "completions") -> n to the exercise's daily activity."""
    by_day: dict[date, dict[str, int]] = {}
    for (day, column), n in counts.items():
        if n:
            by_day.setdefault(day, {"attempts": 0, "completions": 0})[column] += n
    if not by_day:
        return
    _add_rows(session.connection(), _ADD_DAYS, [
        {"day": day, "exercise_id": exercise_id, **values}
        for day, values in sorted(by_day.items())])


def _add_item_counts(session: Session, exercise_id: str,
                     counts: Mapping[tuple[str, str], int]) -> None:
    changes = [{"exercise_id": exercise_id, "item_id": item, "outcome": outcome, "count": n}
               for (item, outcome), n in sorted(counts.items()) if n]
    if not changes:
        return
    _add_rows(session.connection(), _ADD_ITEM_COUNTS, changes)


_ADD_DAYS = _adding(DailyActivity, ("day", "exercise_id"), ("attempts", "completions"))
_ADD_ITEM_COUNTS = _adding(ItemOutcome, ("exercise_id", "item_id", "outcome"), ("count",))


# ------------------------------------------------------- the gradebook's sort keys

# Each learner's gradebook sort keys (User.score_sum, awaiting, steps_done) change with
# every exercise they work on, so a change to one exercise would lock a row that changes
# to others lock too. To keep that from deadlocking (a regrade or a release of many
# learners against a submission), the changes are noted as the transaction goes and
# applied when it commits, after every other lock it takes, learner by learner in id
# order: one statement, whichever path made the change.
_PENDING = "course_learner_keys"
_USERS = _table(User)
_ADD_LEARNER_KEYS = (update(_USERS).where(_USERS.c.id == bindparam("uid"))
                     .values(score_sum=_USERS.c.score_sum + bindparam("d_score", type_=Float),
                             awaiting=_USERS.c.awaiting + bindparam("d_awaiting", type_=Integer),
                             steps_done=_USERS.c.steps_done + bindparam("d_steps",
                                                                        type_=Integer)))


def note_learner(session: Session, user_id: int, *, score_sum: float = 0.0,
                 awaiting: int = 0, steps_done: int = 0) -> None:
    """Add to a learner's gradebook sort keys when the session's transaction commits."""
    if not (score_sum or awaiting or steps_done):
        return
    session.connection()  # in a transaction, so that its rollback drops the note too
    pending: dict[int, list[float]] = session.info.setdefault(_PENDING, {})
    keys = pending.setdefault(user_id, [0.0, 0, 0])
    keys[0] += score_sum
    keys[1] += awaiting
    keys[2] += steps_done


@event.listens_for(Session, "before_commit")
def _apply_learner_keys(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the transaction goes on
        return
    pending: dict[int, list[float]] | None = session.info.pop(_PENDING, None)
    if pending:
        session.execute(_ADD_LEARNER_KEYS, [
            {"uid": uid, "d_score": score, "d_awaiting": awaiting, "d_steps": steps}
            for uid, (score, awaiting, steps) in sorted(pending.items())])


@event.listens_for(Session, "after_transaction_end")
def _forget_learner_keys(session: Session, transaction: Any) -> None:
    """Notes of a transaction that ended without its commit (rolled back, or the session
    closed) are dropped with it (after a commit there are none left)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


_ADD_LEARNERS = _adding(LearnerCount, ("id",), ("learners",))


def add_learners(connection: Any, change: int) -> None:
    """Add `change` to the kept number of learner accounts (on `connection`, a Session's
    or the flush's own, in the transaction that makes or deletes them)."""
    _add_rows(connection, _ADD_LEARNERS, [{"id": 1, "learners": change}])


@event.listens_for(User, "after_insert")
def _learner_made(_mapper: Any, connection: Any, user: User) -> None:
    if user.role == Role.LEARNER.value:
        add_learners(connection, 1)


@event.listens_for(User, "after_delete")
def _learner_deleted(_mapper: Any, connection: Any, user: User) -> None:
    if user.role == Role.LEARNER.value:
        add_learners(connection, -1)


def learner_count(session: Session) -> int:
    """The kept number of learner accounts (one row, however many there are)."""
    return session.scalar(select(LearnerCount.learners).where(LearnerCount.id == 1)) or 0


_REBUILD_LEARNER_KEYS = update(User).values(
    score_sum=func.coalesce(select(func.sum(LearnerExercise.score))
                            .where(LearnerExercise.user_id == User.id).scalar_subquery(), 0.0),
    awaiting=select(func.count()).where(LearnerExercise.user_id == User.id,
                                        LearnerExercise.score.is_(None)).scalar_subquery(),
    steps_done=select(func.count()).where(StepProgress.user_id == User.id)
    .scalar_subquery()).execution_options(synchronize_session=False)


# ------------------------------------------------------------------------- rebuild


@dataclass(frozen=True)
class Rebuilt:
    learner_rows: int
    exercises: int
    item_rows: int


def rebuild(session: Session, course: Course) -> Rebuilt:
    """Recompute every aggregate from the attempts, in one transaction, and commit.

    On PostgreSQL the aggregate tables are locked first, so upkeep running at the same
    time waits and then applies its change on top of the rebuilt values.
    """
    tables = (_table(LearnerExercise), _table(ExerciseTotals), _table(ItemOutcome),
              _table(DailyActivity), _table(LearnerCount))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE " + ", ".join(t.name for t in tables)
                             + " IN EXCLUSIVE MODE"))
    for table in tables:
        session.execute(delete(table))
    learners = _computed(session, course.exercises)
    rows = [{"user_id": u, "exercise_id": e, **values}
            for (u, e), values in sorted(learners.items())]
    for start in range(0, len(rows), BATCH):
        session.execute(_table(LearnerExercise).insert(), rows[start:start + BATCH])
    totals: dict[str, Counter[str]] = {}
    for (_, exercise_id), values in learners.items():
        totals.setdefault(exercise_id, Counter()).update(_totals_of(values))
    for exercise_id, change in sorted(totals.items()):
        _add_totals(session, exercise_id, {**_totals_of(EMPTY_LEARNER), **change})
    items = 0
    for exercise in course.exercises:
        counts = _stored_outcomes(session, exercise)
        _add_item_counts(session, exercise.id, counts)
        items += len(counts)
    days: dict[str, Counter[tuple[date, str]]] = {}
    for exercise_id, day, n in session.execute(
            select(Attempt.exercise_id, DAY, func.count())
            .where(Attempt.exercise_id.in_([e.id for e in course.exercises]))
            .group_by(Attempt.exercise_id, DAY)):
        days.setdefault(exercise_id, Counter())[(day, "attempts")] += n
    for (_, exercise_id), values in learners.items():
        if values["first_passed_on"] is not None:
            days.setdefault(exercise_id, Counter())[(values["first_passed_on"],
                                                      "completions")] += 1
    for exercise_id, day_counts in sorted(days.items()):
        _add_days(session, exercise_id, day_counts)
    session.info.pop(_PENDING, None)  # recomputed here from what was just rebuilt
    session.execute(_REBUILD_LEARNER_KEYS)
    add_learners(session.connection(), session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.LEARNER.value)) or 0)
    session.commit()
    return Rebuilt(len(rows), len(totals), items)


def fill_if_missing(session: Session, course: Callable[[], Course]) -> bool:
    """Rebuild when there are attempts but no aggregates yet (a database upgraded from
    before they, or the daily activity, existed); True when it did. Two cheap queries
    otherwise, and `course` is called (the course read) only for a rebuild."""
    if session.scalar(select(DailyActivity.day).limit(1)) is not None:
        return False
    if session.scalar(select(Attempt.id).limit(1)) is None:
        return False
    rebuild(session, course())
    return True


def _stored_outcomes(session: Session, exercise: Exercise) -> Counter[tuple[str, str]]:
    """Item outcomes over the exercise's machine-graded attempts: the database groups
    identical answers (many learners give the same one), each is classified once."""
    counts: Counter[tuple[str, str]] = Counter()
    if not exercise.auto_graded:
        return counts
    answer_text = cast(Attempt.answer, Text)
    rows = session.execute(
        select(answer_text, func.count())
        .where(Attempt.exercise_id == exercise.id, Attempt.status == AUTO_GRADED)
        .group_by(answer_text).execution_options(yield_per=BATCH))
    for stored, times in rows:
        for key, n in outcomes(exercise, json.loads(stored)).items():
            counts[key] += n * times
    return counts
