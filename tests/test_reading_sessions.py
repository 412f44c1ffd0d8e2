"""Pages that only read run without a transaction on PostgreSQL (course.db.reads_only):
two round trips fewer per page; writes keep theirs. (That the attempt page's one
standalone write, marking its feedback read, lasts is checked in
tests/test_instructor_submissions.py, on both engines.)"""

from __future__ import annotations

from course.db import get_engine
from tests.helpers import each_statement
from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise, post


def isolation_of_statements(app):
    """The isolation level each statement ran under (None: the engine's default, in a
    transaction)."""
    return each_statement(
        app, lambda connection, _statement: connection.get_execution_options().get(
            "isolation_level"))


def test_reading_pages_run_in_autocommit_on_postgresql_only(app, client, auth):
    auth.learner()
    location = post(client, QUIZ, correct_answer(exercise(app, QUIZ))).headers["Location"]
    reading = "AUTOCOMMIT" if get_engine(app).dialect.name == "postgresql" else None
    for url in ("/", "/lessons/product-vision", f"/exercises/{QUIZ}", "/progress", location):
        with isolation_of_statements(app) as levels:
            assert client.get(url).status_code == 200
        assert levels and set(levels) == {reading}, (url, levels)
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    with isolation_of_statements(app) as levels:
        response = client.post(f"/exercises/{QUIZ}", data=form)
    assert response.status_code == 303
    assert set(levels) == {None}, levels  # the submission's writes: one transaction


def test_the_reads_only_mark_holds_wherever_it_sits_among_the_decorators(app, client, auth):
    """The mark is read from the endpoint's view (`functools.wraps` carries it), so it
    holds under `login_required` too, with the user loader opening the session."""
    from flask_login import current_user, login_required
    from sqlalchemy import text

    from course.db import get_session, reads_only

    @app.get("/__marked-inside")
    @login_required
    @reads_only
    def marked_inside() -> str:
        return str(get_session().execute(text("SELECT 1")).scalar_one() + current_user.id)

    auth.learner()
    reading = "AUTOCOMMIT" if get_engine(app).dialect.name == "postgresql" else None
    with isolation_of_statements(app) as levels:
        assert client.get("/__marked-inside").status_code == 200
    assert len(levels) == 2 and set(levels) == {reading}, levels
