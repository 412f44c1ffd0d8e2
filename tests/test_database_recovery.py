"""A pooled PostgreSQL connection that the server ended while it sat idle (a restart, an
administrator's pg_terminate_backend, an idle timeout) is never handed to a request: the
next page gets a new connection and answers as usual, not with the 503 page.
(tests/test_load.py terminates connections in the middle of requests too.)"""

from __future__ import annotations

import os
import select
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text

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


def _end_and_wait(admin, dbapi_connection) -> None:
    """End the server's side of `dbapi_connection`, as an administrator would, and wait
    until its goodbye has reached this side of the socket."""
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                     {"pid": dbapi_connection.info.backend_pid})
    waiting = select.poll()
    waiting.register(dbapi_connection.fileno(), select.POLLIN)
    assert waiting.poll(10_000), "the server did not end the connection"


@contextmanager
def _listening(target, name: str, listener):
    event.listen(target, name, listener)
    try:
        yield
    finally:
        event.remove(target, name, listener)


def test_connections_ended_while_the_app_reconnects_give_the_503_page(app, auth, client,
                                                                       database_url):
    """A wave of terminations: the pooled connection is ended while idle, and so is each
    new one as soon as it is opened. The page is the database's 503, never a 500 (it was
    "InvalidRequestError: This connection is closed" when the new connection was refused
    at check-out too), and once the wave is over the next page is fine."""
    auth.learner()
    assert client.get("/progress").status_code == 200
    admin = create_engine(database_url)
    engine = get_engine(app)
    try:
        with engine.connect() as pooled:  # the one the next page would be handed
            dbapi_connection = pooled.connection.dbapi_connection
        _end_and_wait(admin, dbapi_connection)
        with _listening(engine, "connect", lambda new, _record: _end_and_wait(admin, new)):
            response = client.get("/progress")
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        assert "briefly unavailable" in response.get_data(as_text=True)
        assert client.get("/progress").status_code == 200
    finally:
        admin.dispose()
        engine.dispose()


def test_a_connection_ended_between_a_requests_statements_gives_the_503_page(
        app, auth, client, database_url):
    """The server ends the request's connection after its first statement (the sign-in):
    the next statement on it fails, and the page is the database's 503, not a 500."""
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    admin = create_engine(database_url)
    engine = get_engine(app)
    ended: list[int] = []

    def end_after_first(connection, *_args) -> None:
        if not ended:
            ended.append(1)
            _end_and_wait(admin, connection.connection.dbapi_connection)

    try:
        with _listening(engine, "after_cursor_execute", end_after_first):
            response = client.post(f"/exercises/{QUIZ}", data=form)
        assert ended and response.status_code == 503, response.get_data(as_text=True)[:300]
        assert "briefly unavailable" in response.get_data(as_text=True)
        # Nothing was stored, and the same form sent again is stored now.
        assert client.post(f"/exercises/{QUIZ}", data=form).status_code == 303
    finally:
        admin.dispose()
        engine.dispose()
