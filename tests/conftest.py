"""Shared fixtures: an app on a fresh database (SQLite, or TEST_DATABASE_URL), clients, users.

The whole suite runs against SQLite by default and against PostgreSQL when
TEST_DATABASE_URL points at one (.ci/run does both).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from course import create_app
from course.config import normalise_database_url
from course.db import Base, create_schema, get_engine, make_engine, reset_schema
from tests.helpers import AuthActions, missing

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def _postgres_schema():
    """Migrate PostgreSQL once per run from empty; tests then truncate between them."""
    if not TEST_DATABASE_URL:
        yield None
        return
    url = normalise_database_url(TEST_DATABASE_URL)
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


@pytest.fixture
def make_app(tmp_path: Path, database_url: str):
    """Build apps on the test database; extra config is passed through."""
    apps = []

    def factory(**config):
        settings = {"TESTING": True, "DATABASE_URL": database_url,
                    "SECRET_KEY": "test-secret-not-for-production",
                    "MAIL_OUTBOX": str(tmp_path / "outbox")}
        settings.update(config)
        app = create_app(settings)
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


_loaded_courses: dict[tuple[str, str], object] = {}


@pytest.fixture(autouse=True)
def _course_loaded_once_per_content(monkeypatch):
    """Every app a test builds loads the course; parse each distinct content folder once.

    Keyed by the folder and a hash of every file's bytes, so a test that edits content gets
    a fresh load (and its problems), and the frozen Course is safe to share between apps.
    """
    import hashlib

    from course import site

    real_load = site.load_course

    def load_once(content_dir):
        root = Path(content_dir).resolve()
        digest = hashlib.sha256()
        files = [root / "course.yaml", *root.glob("lessons/*.md"), *root.glob("exercises/*")]
        for path in sorted(p for p in files if p.is_file()):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
        key = (str(root), digest.hexdigest())
        if key not in _loaded_courses:
            _loaded_courses[key] = real_load(content_dir)
        return _loaded_courses[key]

    monkeypatch.setattr(site, "load_course", load_once)
