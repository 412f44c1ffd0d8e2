"""The site header (course/site_header.py), kept per signed-in state: what is kept must
follow everything the header shows."""

from __future__ import annotations

import re

from sqlalchemy import update

from course.db import get_session
from course.models import Attempt, Role
from tests.helpers import AuthActions, csrf_token, make_user
from tests.review_factories import VISION, VISION_ANSWER, submit
from tests.test_review_service import _save


def _header(html: str) -> str:
    return html[html.index('<header class="site-header">'):html.index("</header>")]


def _current(header: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)', header)


def test_the_header_follows_a_new_name(app, client, auth) -> None:
    auth.learner()
    assert "Lee Learner</span>" in _header(client.get("/progress").get_data(as_text=True))
    client.post("/account/name", data={"name-csrf_token": csrf_token(client, "/account"),
                                       "name-display_name": "Lee Renamed"})
    header = _header(client.get("/progress").get_data(as_text=True))
    assert "Lee Renamed</span>" in header and "Lee Learner" not in header


def test_the_header_follows_new_feedback_at_once(app, client, auth) -> None:
    """The badge's count is part of what the header is kept by: released feedback shows
    on the next page, and reading it clears the badge on the next page too."""
    learner = auth.learner()
    teacher = make_user(app, "ines@example.com", "Ines Instructor", Role.INSTRUCTOR)
    attempt_id = submit(app, learner.id, VISION, VISION_ANSWER)
    badge = 'New feedback<span class="visually-hidden"> on 1 exercise</span>'
    for _ in range(2):  # the second time from what was kept
        assert "New feedback" not in _header(client.get("/progress").get_data(as_text=True))
    _save(app, attempt_id, teacher.id, feedback="Clear.")
    assert badge in _header(client.get("/progress").get_data(as_text=True))
    client.get(f"/attempts/{attempt_id}")
    assert "New feedback" not in _header(client.get("/progress").get_data(as_text=True))
    with app.app_context():
        get_session().execute(update(Attempt).where(Attempt.id == attempt_id)
                              .values(feedback_unread=True))
        get_session().commit()
    assert badge in _header(client.get("/progress").get_data(as_text=True))


def test_the_header_marks_the_page_it_is_on(client, auth) -> None:
    auth.learner()
    for _ in range(2):  # the second time from what was kept
        assert _current(_header(client.get("/progress").get_data(as_text=True))) == [
            "My progress"]
        assert _current(_header(client.get("/account").get_data(as_text=True))) == ["Account"]


def test_each_person_gets_their_own_header(app, client, auth) -> None:
    auth.learner()
    make_user(app, "ines@example.com", "Ines Instructor", Role.INSTRUCTOR)
    teacher = app.test_client()
    AuthActions(teacher, app).sign_in("ines@example.com")
    mine = _header(client.get("/progress").get_data(as_text=True))
    theirs = _header(teacher.get("/progress").get_data(as_text=True))
    assert "Lee Learner</span>" in mine and "Instructor</a>" not in mine
    assert "Ines Instructor</span>" in theirs and "Instructor</a>" in theirs
    assert csrf_token(client, "/progress") in mine
    assert csrf_token(teacher, "/progress") in theirs
    assert csrf_token(client, "/progress") != csrf_token(teacher, "/progress")


def test_a_visitor_is_sent_back_to_the_page_after_signing_in(client) -> None:
    header = _header(client.get("/exercises/no-such-step?x=1").get_data(as_text=True))
    assert 'href="/signin?next=/exercises/no-such-step?x%3D1"' in header
