"""A pooled PostgreSQL connection that the server ended while it sat idle (a restart, an
administrator's pg_terminate_backend, an idle timeout) is never handed to a request: the
next page gets a new connection and answers as usual, not with the 503 page.
(tests/test_load.py terminates connections in the middle of requests too.)"""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, text

from course.db import get_engine

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="needs PostgreSQL (TEST_DATABASE_URL); SQLite has no server to end connections")

NAME = f"course-{os.getpid()}"  # course.db names this process's connections so


def _backends(admin) -> set[int]:
    with admin.connect() as conn:
        return set(conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": NAME}).scalars())


def test_an_idle_connection_the_server_ended_is_replaced_without_an_error(app, auth, client,
                                                                          database_url):
    auth.learner()
    assert client.get("/progress").status_code == 200  # its connection is back in the pool
    admin = create_engine(database_url)  # not named like the app's
    try:
        ended = _backends(admin)
        assert ended, "the app kept no connection"
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name = :name"), {"name": NAME})
        deadline = time.monotonic() + 10
        while _backends(admin) & ended and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _backends(admin) & ended, "the server did not end the connections"
        for _ in range(3):
            response = client.get("/progress")
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert _backends(admin) - ended, "the app did not open a new connection"
    finally:
        admin.dispose()
        get_engine(app).dispose()
