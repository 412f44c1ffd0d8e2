"""Shared fixtures: an app on a fresh database (SQLite, or TEST_DATABASE_URL), clients, users.

The whole suite runs against SQLite by default and against PostgreSQL when
TEST_DATABASE_URL points at one (.ci/run does both).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from course import create_app
from course.config import normalise_database_url
from course.db import Base, create_schema, get_engine, make_engine
from tests.helpers import AuthActions

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def _postgres_schema():
    """Create the schema once per run on PostgreSQL; tests then truncate between them."""
    if not TEST_DATABASE_URL:
        yield None
        return
    url = normalise_database_url(TEST_DATABASE_URL)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    engine.dispose()
    yield url


def _empty_tables(app) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine(app).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(tmp_path: Path, _postgres_schema) -> str:
    return _postgres_schema or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def make_app(tmp_path: Path, database_url: str):
    """Build apps on the test database; extra config is passed through."""
    apps = []

    def factory(**config):
        settings = {"TESTING": True, "DATABASE_URL": database_url,
                    "SECRET_KEY": "test-secret-not-for-production"}
        settings.update(config)
        app = create_app(settings)
        if database_url.startswith("postgresql") and not apps:
            _empty_tables(app)
        apps.append(app)
        return app

    yield factory
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
