"""The database engine and the per-request session, on plain SQLAlchemy 2.x.

Services take a Session argument and never reach for Flask, so they run the same from a
view, the CLI, a benchmark or a test. Views get the request's session from `get_session()`.
"""

from __future__ import annotations

import os
import re
import select
import weakref
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# The package, not just the base: importing it registers every table on Base.metadata.
from course.models import Base


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the chosen database.

    SQLite gets WAL (readers never block the writer across gunicorn workers), a busy
    timeout instead of instant "database is locked" errors, and enforced foreign keys.
    PostgreSQL (psycopg) connections are named after the worker that opens them, and a
    pooled one the server has closed is never handed out (`_refuse_if_closed_by_server`).
    Any other database gets SQLAlchemy's pre-ping.
    """
    if url.startswith("postgresql+psycopg:"):
        engine = create_engine(url)
        event.listen(engine, "do_connect", _name_connection_after_process)
        event.listen(engine, "connect", _note_new)
        event.listen(engine, "checkout", _refuse_if_closed_by_server)
        _forget_connections_at_fork(engine)
        return engine
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True)
        _forget_connections_at_fork(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": 15})
    _forget_connections_at_fork(engine)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Refresh the planner's statistics where they are missing or stale (cheap when
        # they are current): without them SQLite picks slow plans for grouped queries.
        cursor.execute("PRAGMA optimize=0x10002")
        cursor.close()

    return engine


def _name_connection_after_process(_dialect: Any, _record: Any, _cargs: Any,
                                    cparams: dict[str, Any]) -> None:
    """Label each PostgreSQL connection with the process that opened it, so
    `pg_stat_activity.application_name` tells which gunicorn worker holds which connection."""
    cparams.setdefault("application_name", f"course-{os.getpid()}")


_NEW = "course_new"  # in a connection record's info: opened and not yet handed out


def _note_new(_dbapi_connection: Any, record: Any) -> None:
    record.info[_NEW] = True


def _refuse_if_closed_by_server(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pre-ping without the round trip: hand out a pooled connection only if the server
    has not closed it (or said anything) while it sat idle.

    An idle connection has nothing to read; one the server ended (a restart, an
    administrator's pg_terminate_backend, an idle timeout) has its goodbye or end of file
    waiting on the socket. Raising DisconnectionError makes the pool drop it and hand out
    a new one, as `pool_pre_ping` would, but `pool_pre_ping` asked the server each time:
    on a page of two queries that was a third of its round trips.

    A connection opened for this check-out is handed out unchecked, as `pool_pre_ping`
    does: the pool checks at most twice, and refusing its new connection too (ended as
    soon as it was opened, say while an administrator ends every session) would make it
    give up with an InvalidRequestError, a 500, where the query on that connection
    raises the OperationalError that is the 503 page (course.errors).
    """
    if record.info.pop(_NEW, False):
        return
    if dbapi_connection.closed:
        raise DisconnectionError("this connection was closed")
    waiting = select.poll()  # poll, not select: any file descriptor number
    waiting.register(dbapi_connection.fileno(), select.POLLIN)
    if waiting.poll(0):
        raise DisconnectionError("the server closed this connection while it was idle")


def _forget_connections_at_fork(engine: Engine) -> None:
    """A forked child must never use a connection (or SQLite file handle) of its parent:
    two processes on one socket corrupt each other's protocol state. The child drops the
    pool it inherited without closing it (the parent still owns those connections) and
    opens its own on first use. The weak reference lets test apps' engines be collected.
    """
    ref = weakref.ref(engine)

    def forget() -> None:
        inherited = ref()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to `app`; each request's session is closed
    when its app context ends (`get_session`)."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    reading = _without_transactions(engine)
    app.extensions["db_reading_sessionmaker"] = (
        None if reading is engine else sessionmaker(reading, expire_on_commit=False))
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    engine: Engine = (app or current_app).extensions["db_engine"]
    return engine


def get_session() -> Session:
    """The session of the current app context: opened on first use, kept on `g`, closed
    at teardown (`_close_session`), as Flask-SQLAlchemy and flaskr's `get_db` do. The
    GET of a view marked `reads_only` gets one without transactions on PostgreSQL."""
    if "db_session" not in g:
        makers = current_app.extensions
        reading = makers["db_reading_sessionmaker"]  # None where reads need no other
        g.db_session = (reading if reading is not None and _reads_only()
                        else makers["db_sessionmaker"])()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


# ---------------------------------------------------- reads without a transaction

SAFE_METHODS = frozenset({"GET", "HEAD"})
View = TypeVar("View", bound=Callable[..., Any])
_READS_ONLY = "course_reads_only"  # the mark `reads_only` sets on a view function


def reads_only(view: View) -> View:
    """Mark a view whose GET only reads, or writes single statements that each stand
    alone (say, marking one attempt's feedback read): its session runs without a
    transaction on PostgreSQL (`_without_transactions`). Anything that must write two
    statements together does not belong.

    A mark on the function, not a wrapper: `functools.wraps` carries it through the other
    decorators, so it may sit anywhere among them, and `get_session` reads it from the
    endpoint's view whoever opens the session first (the user loader, usually).
    """
    setattr(view, _READS_ONLY, True)
    return view


def _reads_only() -> bool:
    """Whether this request is the GET of a view marked `reads_only`."""
    if not has_request_context() or request.method not in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, _READS_ONLY, False)


def _without_transactions(engine: Engine) -> Engine:
    """The engine of `reads_only` GETs: on PostgreSQL, statements in autocommit (elsewhere
    the engine itself).

    In a transaction, a page's few reads cost two more round trips to the server (BEGIN
    before the first, ROLLBACK when the connection goes back to the pool). Reads that
    each see their own instant are fine for a page (none of them checks another's
    result before writing). The pool is the engine's own; the setting is made in the
    driver when the connection is taken and undone when it is returned, without a round
    trip. SQLite's driver begins no transaction for reads, so there it would only cost
    a PRAGMA on every return.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_schema(engine: Engine) -> None:
    """Bring the database up to the newest migration (creating it when empty).

    Idempotent and cheap when already current, so start-up can always call it. A database
    already at the newest migration is recognised without importing Alembic: Alembic and
    the SQL dialects it loads take about 11 MB, which the preloaded gunicorn master would
    otherwise hand to every worker it forks (see README, "Memory per worker").
    """
    if _head_revision() is not None and _current_revision(engine) == _head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?::[^=]*)? = ['\"]([0-9a-z_]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)? = (.*)$", re.M)


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    """The newest migration's id, read from the migration files as Alembic would: the one
    revision no other revision names as its parent. None when that is not exactly one
    (then Alembic itself decides)."""
    revisions, parents = set(), set()
    for script in MIGRATIONS.glob("*.py"):
        text = script.read_text()
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"]([0-9a-z_]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revision(engine: Engine) -> str | None:
    """The migration the database is at; None for a new database (no alembic_version)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def analyse(session: Session) -> None:
    """Bring the planner's statistics up to date after a bulk load (and commit).

    Call it after inserting many rows at once (demo data, a rebuild): until then both
    engines plan from the table sizes they saw before, and SQLite in particular chooses
    full scans over the covering indexes. Autovacuum does it too on PostgreSQL, later.
    """
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("ANALYZE"))
        session.execute(text("PRAGMA optimize"))
    else:
        session.execute(text("ANALYZE"))
    session.commit()


def reset_schema(engine: Engine) -> None:
    """Drop every table and migrate from empty: for test and benchmark databases only."""
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    create_schema(engine)
