"""Shared fixtures: an app on a fresh database (SQLite, or TEST_DATABASE_URL), clients, users.

The whole suite runs against SQLite by default and against PostgreSQL when
TEST_DATABASE_URL points at one (.ci/run does both). Plain `pytest` runs the suite a
contributor runs after every change, in parallel (pytest-xdist, see pyproject.toml): the
tests marked in `MARKED` are left out unless chosen with -m or by naming their files.
Each xdist worker has its own SQLite files (tmp_path) and its own PostgreSQL database.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import make_url, text

from course import create_app
from course.config import normalise_database_url
from course.db import Base, create_schema, get_engine, make_engine, reset_schema
from tests.helpers import AuthActions, course_at, missing

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

#: Markers of the tests plain `pytest` leaves out: each needs more than Python, or minutes.
MARKED = {
    "browser": "drives a real Chromium through Playwright (and axe-core in it)",
    "checker": "runs the Nu HTML checker (Java) over every page type",
    "slow": "starts the production server (gunicorn) or otherwise takes many seconds",
    "load": "load and faults against the production server",
}
FAST_SUITE = " and ".join(f"not {name}" for name in MARKED)


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in MARKED.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")
    # Only a run of the default paths without -m is narrowed: `pytest -m browser` and
    # `pytest tests/browser/test_axe.py` run what they name. xdist hands the options to its
    # workers, so they collect the same selection.
    if not config.option.markexpr and config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        config.option.markexpr = FAST_SUITE


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.option.markexpr != FAST_SUITE:
        return None
    return (f"the fast suite: {', '.join(MARKED)} tests are deselected; run them with "
            f"-m \"{' or '.join(MARKED)}\" (or name their files)")


def _worker_database(url: str) -> str:
    """This xdist worker's own database beside TEST_DATABASE_URL's (test_x -> test_x_gw0),
    created on the server when missing; the URL itself when not under xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    own = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    server = make_engine(own.set(database="postgres").render_as_string(hide_password=False))
    try:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": own.database})
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(own.database)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        server.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_schema():
    """Migrate PostgreSQL once per run (per xdist worker) from empty; tests then truncate
    between them."""
    if not TEST_DATABASE_URL:
        yield None
        return
    url = _worker_database(normalise_database_url(TEST_DATABASE_URL))
    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that each test copies, instead of migrating every time."""
    path = tmp_path_factory.mktemp("template") / "course.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    return path


def _empty_tables(app) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine(app).begin() as conn:
        # A connection left open by a failed test must fail the next test, not hang the run.
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(tmp_path: Path, _postgres_schema, _sqlite_template: Path) -> str:
    if _postgres_schema:
        return _postgres_schema
    shutil.copyfile(_sqlite_template, tmp_path / "test.db")
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def _compiled_templates(tmp_path_factory) -> FileSystemBytecodeCache:
    """Templates compiled once per worker and shared by every app the tests build: each
    app has its own Jinja environment, which would compile every template it renders
    again. Keyed by each template's source, so an edited one is compiled afresh."""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("templates")))


@pytest.fixture
def make_app(tmp_path: Path, database_url: str, _compiled_templates: FileSystemBytecodeCache):
    """Build apps on the test database; extra config is passed through."""
    apps = []

    def factory(**config):
        settings = {"TESTING": True, "DATABASE_URL": database_url,
                    "SECRET_KEY": "test-secret-not-for-production",
                    "MAIL_OUTBOX": str(tmp_path / "outbox")}
        settings.update(config)
        app = create_app(settings)
        app.jinja_env.bytecode_cache = _compiled_templates
        if database_url.startswith("postgresql") and not apps:
            _empty_tables(app)
        apps.append(app)
        return app

    yield factory
    # A forgotten-password request mails its link from a thread once the answer is sent;
    # let it finish before the engine goes, or its connection outlives the pool and is
    # reported (ResourceWarning) in whichever test runs next.
    for thread in threading.enumerate():
        if thread.name == "reset-mail":
            thread.join(timeout=30)
    for app in apps:  # and the same for the sender of queued mail
        app.extensions["mail_delivery"].wait()
    for app in apps:
        get_engine(app).dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client, app) -> AuthActions:
    return AuthActions(client, app)


@pytest.fixture
def redis_url():
    """The local Redis (TEST_REDIS_URL, default 127.0.0.1:6379/0); skipped when it is not
    running, except on CI where a missing Redis is a failure."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        missing(f"needs Redis at {url}: start redis-server (CI must start it) or set "
                "TEST_REDIS_URL")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards (and only those)."""
    import uuid

    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Real hashing, cheap work factor: scrypt's production cost dominates a test's time."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("course.models.user.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"))


@pytest.fixture(autouse=True)
def _course_loaded_once_per_content(monkeypatch):
    """Every app a test builds loads the course; parse each distinct content folder once
    (tests.helpers.course_at)."""
    from course import site

    monkeypatch.setattr(site, "load_course", course_at)
