"""One database session per request (course.db.get_session), opened on first use and
closed at teardown, and the sign-in checked in one query on it
(course.services.sign_ins.signed_in)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from course.db import get_engine, get_session
from course.models import Attempt, Role
from course.services import progress, sign_ins
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


def test_a_live_sign_in_names_its_user_in_one_query(app, learner) -> None:
    user_id, token = learner
    with app.app_context(), count_queries(app) as statements:
        user = sign_ins.signed_in(get_session(), user_id, token)
    assert user is not None and user.id == user_id and user.new_feedback == set()
    assert user.get_id() == f"{user_id}:{token}"
    assert len(statements) == 1, statements


def test_an_ended_or_made_up_sign_in_names_nobody(app, learner) -> None:
    user_id, token = learner
    with app.app_context():
        session = get_session()
        assert sign_ins.signed_in(session, user_id, "made-up") is None
        other = make_user(app, "other@example.com", "Other Learner")
        assert sign_ins.signed_in(session, other.id, token) is None  # somebody else's
        sign_ins.end(session, token)
        assert sign_ins.signed_in(session, user_id, token) is None


@contextmanager
def connections_and_sessions(app):
    """Pool check-outs, and the ORM sessions that began a transaction, while the block
    runs."""
    counted = {"checkouts": 0, "most_out": 0, "out": 0}
    sessions: set[int] = set()

    def checked_out(*_args) -> None:
        counted["checkouts"] += 1
        counted["out"] += 1
        counted["most_out"] = max(counted["most_out"], counted["out"])

    def checked_in(*_args) -> None:
        counted["out"] -= 1

    def began(session, *_args) -> None:
        sessions.add(id(session))

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
        counted["sessions"] = len(sessions)


def test_a_signed_in_page_reads_through_one_session_and_one_connection(
        app, auth, client) -> None:
    """The user loader and the view share the request's session, whose connection goes
    back to the pool when the request ends."""
    auth.learner()
    for path in ("/", f"/lessons/{LESSON}", "/progress", f"/exercises/{EXERCISE}"):
        with connections_and_sessions(app) as counted:
            assert client.get(path).status_code == 200
        assert counted == {"checkouts": 1, "sessions": 1, "most_out": 1, "out": 0}, path


def test_a_page_that_reads_the_orm_after_core_rows_holds_one_connection(
        app, auth, client) -> None:
    """An exercise page of older attempts, prefilled from the newest (not on that page),
    loads it as an ORM object in the same session as the rows before it."""
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
    assert counted == {"checkouts": 1, "sessions": 1, "most_out": 1, "out": 0}


def test_a_submission_checks_the_sign_in_then_reads_what_came_before(
        app, auth, client) -> None:
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    with count_queries(app) as statements:
        response = client.post(f"/exercises/{QUIZ}", data=form)
    assert response.status_code == 303
    assert [s for s in statements if "sign_ins" in s] == statements[:1], statements
    # ... then, in one statement, the learner's report row and their attempt with this
    # form's token, and no other read of the report row.
    assert "learner_exercise_stats" in statements[1] and "submission_token" in statements[1]
    assert not any("learner_exercise_stats" in s and s.lstrip().startswith("SELECT")
                   for s in statements[2:]), statements
    # The same form sent again gets the same attempt.
    assert client.post(f"/exercises/{QUIZ}", data=form).headers["Location"] \
        == response.headers["Location"]


def test_the_attempt_page_reads_the_sign_in_then_the_attempt(app, auth, client) -> None:
    """An attempt nobody has reviewed: the learner, then the attempt with its standing."""
    from tests.test_exercise_views import QUIZ, correct_answer, envelope, exercise

    auth.learner()
    form = {**envelope(client, QUIZ), "confirm_last": "y",
            **correct_answer(exercise(app, QUIZ))}
    attempt_page = client.post(f"/exercises/{QUIZ}", data=form).headers["Location"]
    with connections_and_sessions(app) as counted, count_queries(app) as statements:
        page = client.get(attempt_page)
    assert page.status_code == 200 and "Passed" in page.get_data(as_text=True)
    assert counted == {"checkouts": 1, "sessions": 1, "most_out": 1, "out": 0}
    assert len(statements) == 2 and "sign_ins" in statements[0], statements


def test_opening_reviewed_work_marks_its_feedback_read(app, auth, client) -> None:
    """The review's feedback is shown and marked read in the request's one session: its
    commit gives the connection back, and the header's badge takes one again."""
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
    assert counted == {"checkouts": 2, "sessions": 1, "most_out": 1, "out": 0}
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
