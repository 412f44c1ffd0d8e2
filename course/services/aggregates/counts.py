"""The upserts that add a change to the kept counts.

Every kept count (an exercise's totals and score bands, its daily activity, its item
outcomes, the number of learners) is a sum, so a change adds its difference to it with
one INSERT ... ON CONFLICT DO UPDATE: never a read followed by a write, so two changes
to the same count add up however they interleave. The number of learners is added to
as accounts are made and deleted, by the flush that writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from course.models import Base, DailyActivity, ExerciseTotals, ItemOutcome, LearnerCount, User
from course.models.user import Role
from course.services.aggregates.rows import TOTALS, table_of


# The upkeep's statements are built once, with bound parameters, one per engine for the
# upserts (INSERT ... ON CONFLICT is spelled by each dialect's own insert), so that no
# change builds a statement or computes its cache key again (see
# course/services/__init__.py). They run on the session's connection, in its
# transaction: plain statements need none of the ORM's execution and result handling.
def _adding(model: type[Base], keys: tuple[str, ...], columns: tuple[str, ...]
            ) -> dict[str, Any]:
    """Per engine: insert rows of `model`, or add their `columns` to those of the rows with
    the same `keys` (every kept count is an upsert of this shape); run by `_add_rows`.

    On PostgreSQL several rows come as one array per column, unnested by a single
    statement of fixed text (so psycopg parses it once and the server keeps it prepared):
    one submission may add to many (item, outcome) counts, which psycopg would run as one
    execution per row, and a multi-row VALUES list is new text for psycopg to parse each
    time. A single row goes as VALUES (psycopg dumps arrays in Python). SQLite
    runs the statement once per row, in process. The rows of one call have distinct keys
    (each is a sum), as one statement needs on PostgreSQL."""
    table = table_of(model)
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


_ADD_TOTALS = _adding(ExerciseTotals, ("exercise_id",), TOTALS)


def add_totals(session: Session, exercise_id: str, change: Mapping[str, float]) -> None:
    """Add `change` (a value for every name in TOTALS) to the exercise's totals."""
    _add_rows(session.connection(), _ADD_TOTALS,
              [{"exercise_id": exercise_id, **{name: change[name] for name in TOTALS}}])


def add_days(session: Session, exercise_id: str,
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


def add_item_counts(session: Session, exercise_id: str,
                    counts: Mapping[tuple[str, str], int]) -> None:
    changes = [{"exercise_id": exercise_id, "item_id": item, "outcome": outcome, "count": n}
               for (item, outcome), n in sorted(counts.items()) if n]
    if not changes:
        return
    _add_rows(session.connection(), _ADD_ITEM_COUNTS, changes)


_ADD_DAYS = _adding(DailyActivity, ("day", "exercise_id"), ("attempts", "completions"))
_ADD_ITEM_COUNTS = _adding(ItemOutcome, ("exercise_id", "item_id", "outcome"), ("count",))


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
