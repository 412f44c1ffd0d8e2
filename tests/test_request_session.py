"""A page's rows read in the query that checks the sign-in (services.sign_ins.signed_in_with,
course.extensions.read_with_sign_in): they come only with a live sign-in of the user they
belong to, and a page whose user was loaded some other way reads them itself."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from course.db import get_engine, get_session
from course.models import Attempt, Role
from course.services import attempts, progress, sign_ins
from tests.helpers import count_queries, make_user

LESSON = "what-product-managers-do"
EXERCISE = "build-now-next-later"


@pytest.fixture
def learner(app):
    """A learner who has completed LESSON, and the token of one live sign-in."""
    user = make_user(app)
    with app.app_context():
        session = get_session()
        progress.set_complete(session, user.id, LESSON, True)
        token = sign_ins.start(session, session.merge(user))
    return user.id, token


def test_a_live_sign_in_comes_with_the_pages_rows(app, learner) -> None:
    user_id, token = learner
    with app.app_context():
        user, rows = sign_ins.signed_in_with(get_session().connection(), user_id, token,
                                             *progress.is_complete_query(user_id, LESSON))
    assert user is not None and user.id == user_id and user.new_feedback == set()
    assert len(rows) == 1


def test_a_page_without_rows_gets_none_not_a_row_of_nulls(app, learner) -> None:
    user_id, token = learner
    with app.app_context():
        user, rows = sign_ins.signed_in_with(get_session().connection(), user_id, token,
                                             *progress.is_complete_query(user_id, "other"))
        _, progress_rows = sign_ins.signed_in_with(
            get_session().connection(), user_id, token, *attempts.learner_progress_query(user_id))
        done, summaries = attempts.learner_progress_from(progress_rows, app.extensions["course"])
    assert user is not None and rows == []
    assert done == {LESSON} and summaries == {}


def test_an_ended_sign_in_brings_no_rows(app, learner) -> None:
    user_id, token = learner
    with app.app_context():
        session = get_session()
        sign_ins.end(session, token)
        assert sign_ins.signed_in_with(session.connection(), user_id, token,
                                       *progress.is_complete_query(user_id, LESSON)) \
            == (None, [])
        # Nor with a token of somebody else's, or a made-up one.
        assert sign_ins.signed_in_with(session.connection(), user_id, "made-up",
                                       *progress.is_complete_query(user_id, LESSON)) \
            == (None, [])


def test_only_the_signed_in_users_own_rows_can_be_read_with_the_sign_in(app, learner) -> None:
    user_id, token = learner
    other = make_user(app, "other@example.com", "Other Learner")
    with app.app_context(), pytest.raises(ValueError):
        sign_ins.signed_in_with(get_session().connection(), user_id, token,
                                *progress.is_complete_query(other.id, LESSON))


def test_a_user_loaded_before_the_view_still_gets_the_right_page(app, auth, client) -> None:
    """Anything that asks for `current_user` before the view (here a request hook) loads
    the user without the page's query; the view then runs its own."""
    loaded_early: list[bool] = []

    @app.before_request
    def _ask_early() -> None:
        loaded_early.append(current_user.is_authenticated)

    user = auth.learner()
    with app.app_context():
        progress.set_complete(get_session(), user.id, LESSON, True)
    with count_queries(app) as statements:
        page = client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert loaded_early[-1] is True
    assert "You completed this lesson." in page
    assert len(statements) == 2, statements  # the sign-in, then the page's own
    mine = client.get("/progress").get_data(as_text=True)
    assert "Done" in mine  # the completed lesson, read by My progress itself


def test_a_submission_reads_what_came_before_with_the_sign_in(app, auth, client) -> None:
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    with count_queries(app) as statements:
        response = client.post(f"/exercises/{QUIZ}", data=form)
    assert response.status_code == 303
    signing_in = [s for s in statements if "sign_ins" in s]
    assert len(signing_in) == 1 and statements[0] == signing_in[0], statements
    # ... with the learner's report row and their attempt with this form's token.
    assert "learner_exercise_stats" in statements[0] and "submission_token" in statements[0]
    assert not any("learner_exercise_stats" in s and s.lstrip().startswith("SELECT")
                   for s in statements[1:]), statements
    # The same form sent again gets the same attempt.
    assert client.post(f"/exercises/{QUIZ}", data=form).headers["Location"] \
        == response.headers["Location"]


@contextmanager
def connections_and_sessions(app):
    """Pool check-outs, and ORM sessions that began a transaction, while the block runs."""
    counted = {"checkouts": 0, "sessions": 0, "most_out": 0, "out": 0}

    def checked_out(*_args) -> None:
        counted["checkouts"] += 1
        counted["out"] += 1
        counted["most_out"] = max(counted["most_out"], counted["out"])

    def checked_in(*_args) -> None:
        counted["out"] -= 1

    def began(*_args) -> None:
        counted["sessions"] += 1

    engine = get_engine(app)
    listeners = [(engine.pool, "checkout", checked_out), (engine.pool, "checkin", checked_in),
                 (Session, "after_begin", began)]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counted
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


def test_a_page_that_only_reads_needs_no_orm_session(app, auth, client) -> None:
    """The pages read with the sign-in use one pooled connection, without building an
    ORM session (course.db.get_connection)."""
    auth.learner()
    for path in ("/", f"/lessons/{LESSON}", "/progress", f"/exercises/{EXERCISE}"):
        with connections_and_sessions(app) as counted:
            assert client.get(path).status_code == 200
        assert counted == {"checkouts": 1, "sessions": 0, "most_out": 1, "out": 0}, path


def test_a_page_that_needs_the_session_after_reading_holds_one_connection(
        app, auth, client) -> None:
    """An exercise page of older attempts, prefilled from the newest (not on that page),
    reads it through the ORM session: the plain connection goes back to the pool first,
    so the request never holds two."""
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    for _ in range(2):
        form = {**envelope(client, QUIZ), "confirm_last": "y",
                **correct_answer(exercise(app, QUIZ))}
        assert client.post(f"/exercises/{QUIZ}", data=form).status_code == 303
    with connections_and_sessions(app) as counted:
        page = client.get(f"/exercises/{QUIZ}?before=2")
    assert page.status_code == 200
    assert "Your answer from attempt 2 is filled in below" in page.get_data(as_text=True)
    assert counted == {"checkouts": 2, "sessions": 1, "most_out": 1, "out": 0}


def test_the_attempt_page_reads_its_attempt_with_the_sign_in(app, auth, client) -> None:
    """An attempt nobody has reviewed: the learner and the attempt with its standing in
    one query, on the plain connection, without an ORM session."""
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    attempt_page = client.post(f"/exercises/{QUIZ}", data=form).headers["Location"]
    with connections_and_sessions(app) as counted, count_queries(app) as statements:
        page = client.get(attempt_page)
    assert page.status_code == 200 and "Passed" in page.get_data(as_text=True)
    assert counted == {"checkouts": 1, "sessions": 0, "most_out": 1, "out": 0}
    assert len(statements) == 1 and "sign_ins" in statements[0], statements


def test_opening_reviewed_work_marks_its_feedback_read(app, auth, client) -> None:
    """The review's feedback is shown and marked read through the ORM session, which
    takes over from the plain connection: one connection at a time (the plain one, the
    session's until it commits the reading, then the session's for the header's badge)."""
    from tests.review_factories import VISION, VISION_ANSWER, submit
    from tests.test_review_service import _save

    learner = auth.learner()
    teacher = make_user(app, "ines@example.com", "Ines Instructor", Role.INSTRUCTOR)
    attempt_id = submit(app, learner.id, VISION, VISION_ANSWER)
    _save(app, attempt_id, teacher.id, feedback="Nice *work*.")
    assert "New feedback" in client.get("/progress").get_data(as_text=True)
    with connections_and_sessions(app) as counted:
        page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Ines Instructor" in page and "<em>work</em>" in page
    assert "New feedback" not in page  # the header's badge follows the reading
    assert counted == {"checkouts": 3, "sessions": 2, "most_out": 1, "out": 0}
    assert "New feedback" not in client.get("/progress").get_data(as_text=True)
    with app.app_context():
        assert not get_session().get(Attempt, attempt_id).feedback_unread


def test_anybody_elses_attempt_is_not_found_with_or_without_a_review(
        app, auth, client) -> None:
    from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit
    from tests.test_review_service import _save

    owner = make_user(app, "owner@example.com", "Olu Owner")
    teacher = make_user(app, "ines@example.com", "Ines Instructor", Role.INSTRUCTOR)
    graded = submit(app, owner.id, SORT, sort_form(app))
    reviewed = submit(app, owner.id, VISION, VISION_ANSWER)
    _save(app, reviewed, teacher.id)
    auth.learner()
    for attempt_id in (graded, reviewed, 999_999):
        assert client.get(f"/attempts/{attempt_id}").status_code == 404
    with app.app_context():  # and the owner's feedback is still unread
        assert get_session().get(Attempt, reviewed).feedback_unread
