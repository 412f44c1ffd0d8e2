"""The benchmarks' databases: empty ones, and ones filled with 1,000 to 1,000,000 attempts.

`empty_database` gives a new SQLite file, or an existing database wiped and migrated.
`filled_database` gives one holding about N attempts, made once and reused by later runs
while its size, seed and schema still match (a SQLite file in the work folder; on
PostgreSQL one schema per size, `bench_<N>`, inside the database the URL names).

Filling is fast because almost nothing goes through Python per attempt:
- course.demo generates and grades one cohort of up to BASE_ATTEMPTS attempts (about
  ATTEMPTS_PER_LEARNER per learner), with bulk inserts;
- that cohort is then copied in SQL (INSERT ... SELECT), each copy as new learners with
  the same work, until the database holds N attempts; 1,000,000 attempts are 20,000
  learners in 50 copies of a 20,000-attempt cohort;
- the report aggregates are rebuilt from the attempts once, after the load, and the
  planner's statistics refreshed (ANALYZE), as after any bulk load.
The copies make the cohort repetitive, which no page's cost depends on: what matters to
the instructor pages is how many learners and attempts there are, spread as real ones are.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, insert, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, aliased

import course.db
from course import demo
from course.config import normalise_database_url
from course.content.schema import Course
from course.db import analyse, create_schema, make_engine, reset_schema
from course.models import Attempt, StepProgress, User
from course.services.aggregates.rebuild import rebuild as rebuild_aggregates

BASE_ATTEMPTS = 20_000
ATTEMPTS_PER_LEARNER = 50


def empty_database(url: str | None, workdir: Path, name: str) -> str:
    """The URL of an empty, migrated database (a `--database-url` one loses its tables)."""
    if url is None:
        return f"sqlite:///{workdir / f'{name}.db'}"
    url = normalise_database_url(url)
    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()
    return url


@dataclass(frozen=True)
class Filled:
    url: str
    learners: int
    attempts: int
    seconds: float  # to fill it; 0 when an earlier run's database was reused
    reused: bool


def size_label(attempts: int) -> str:
    """1k, 100k, 1m: names the database of that size."""
    for unit, divisor in (("m", 1_000_000), ("k", 1000)):
        if attempts >= divisor and attempts % divisor == 0:
            return f"{attempts // divisor}{unit}"
    return str(attempts)


def database_for(url: str | None, workdir: Path, attempts: int) -> str:
    """The URL of the database that holds the `attempts`-sized data set."""
    label = size_label(attempts)
    if url is None:
        return f"sqlite:///{workdir / f'bench-{label}.db'}"
    parsed = make_url(normalise_database_url(url))
    return parsed.update_query_dict(
        {"options": f"-csearch_path=bench_{label}"}).render_as_string(hide_password=False)


def filled_database(url: str | None, workdir: Path, course: Course, attempts: int,
                    seed: int = 1) -> Filled:
    """A database holding about `attempts` attempts (see the module docstring). One an
    earlier run filled for this size and seed is reused: migrated to the current schema
    if need be, with its aggregates rebuilt (a newer schema may add some)."""
    target = database_for(url, workdir, attempts)
    engine = make_engine(target)
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                schema = f"bench_{size_label(attempts)}"
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        with Session(engine) as session:
            found = _reusable(session, attempts, seed)
        if found is not None:
            revision, learners, stored = found
            if revision != _schema_head():
                create_schema(engine)
                with Session(engine) as session:
                    rebuild_aggregates(session, course)
                    analyse(session)
                    _remember(session, attempts, seed)
                _vacuum(engine)
            return Filled(target, learners, stored, 0.0, True)
        with engine.begin() as connection:  # reset_schema leaves tables it does not know
            connection.execute(text(f"DROP TABLE IF EXISTS {_MARK}"))
        reset_schema(engine)
        started = time.perf_counter()
        with Session(engine) as session:
            learners, stored = fill(session, course, attempts, seed)
            _remember(session, attempts, seed)
        _vacuum(engine)
        return Filled(target, learners, stored, time.perf_counter() - started, False)
    finally:
        engine.dispose()


def _vacuum(engine: Engine) -> None:
    """On PostgreSQL, VACUUM after a bulk load (or a rebuilt index) sets the visibility
    map, without which an index-only scan still visits every row it counts; autovacuum
    would get there too, later."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def fill(session: Session, course: Course, attempts: int, seed: int) -> tuple[int, int]:
    """Load about `attempts` attempts into an empty database; (learners, attempts)."""
    copies = max(1, math.ceil(attempts / BASE_ATTEMPTS))
    base = attempts // copies
    demo.fill(session, course, learners=max(1, base // ATTEMPTS_PER_LEARNER),
              attempts=base, seed=seed)
    for copy in range(1, copies):
        if copy % 10 == 1:
            print(f"  copying the cohort: {copy} of {copies - 1}", file=sys.stderr, flush=True)
        _copy_cohort(session, f"c{copy}.")
        session.commit()  # one copy per transaction keeps SQLite's write-ahead log small
    rebuild_aggregates(session, course)
    analyse(session)
    learners = session.scalar(select(func.count()).select_from(User)) or 0
    return learners, session.scalar(select(func.count()).select_from(Attempt)) or 0


def _copy_cohort(session: Session, prefix: str) -> None:
    """The demo cohort again as new learners (their emails prefixed), with the same attempts
    and completed steps: three INSERT ... SELECT statements."""
    users, attempts, steps = User.__table__, Attempt.__table__, StepProgress.__table__
    original = aliased(User, name="original")
    copied = aliased(User, name="copied")
    base = original.email.like(f"learner%@{demo.DEMO_DOMAIN}")
    columns = [c.name for c in users.columns if c.name != "id"]
    session.execute(insert(users).from_select(columns, select(*(
        (literal(prefix) + original.email) if c == "email" else getattr(original, c)
        for c in columns)).where(base).order_by(original.id)))

    def copy_rows(table: Any) -> None:
        names = [c.name for c in table.columns if c.name != "id"]
        session.execute(insert(table).from_select(names, select(*(
            copied.id if c == "user_id" else table.c[c] for c in names))
            .join(original, original.id == table.c.user_id)
            .join(copied, copied.email == literal(prefix) + original.email)
            .where(base).order_by(table.c.id)))

    copy_rows(attempts)
    copy_rows(steps)


# A one-row table saying what a filled database was filled with (size, seed, and the
# migration it was filled at: a newer schema may add aggregates), so a later run reuses it.
_MARK = "bench_filled"


def _schema_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(Path(course.db.__file__).parent / "migrations"))
    return str(ScriptDirectory.from_config(config).get_current_head())


def _remember(session: Session, attempts: int, seed: int) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {_MARK}"))
    session.execute(text(f"CREATE TABLE {_MARK} (attempts INTEGER, seed INTEGER, "
                         "revision VARCHAR(40))"))
    session.execute(text(f"INSERT INTO {_MARK} VALUES (:a, :s, :r)"),
                    {"a": attempts, "s": seed, "r": _schema_head()})
    session.commit()


def _reusable(session: Session, attempts: int, seed: int) -> tuple[str, int, int] | None:
    """(schema revision, learners, attempts) when the database was filled for this size
    and seed."""
    try:
        row = session.execute(text(f"SELECT attempts, seed, revision FROM {_MARK}")).one_or_none()
    except (OperationalError, ProgrammingError):  # no such table: never filled
        session.rollback()
        return None
    if row is None or (row.attempts, row.seed) != (attempts, seed):
        return None
    return (row.revision, session.scalar(select(func.count()).select_from(User)) or 0,
            session.scalar(select(func.count()).select_from(Attempt)) or 0)
