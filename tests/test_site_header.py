"""The site header (course/site_header.py), kept per signed-in state: what is kept must
follow everything the header shows."""

from __future__ import annotations

import re

from course.models import Role
from tests.helpers import AuthActions, csrf_token, make_user


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
    # A signed token carries the time it was signed, so another page signed in another
    # second differs; what is each session's own is the raw token it signs, its first part.
    mine_raw, theirs_raw = (_raw(csrf_token(who, "/progress")) for who in (client, teacher))
    assert f'value="{mine_raw}.' in mine and f'value="{theirs_raw}.' in theirs
    assert mine_raw != theirs_raw


def _raw(signed: str) -> str:
    """The session's raw CSRF token inside Flask-WTF's signed one (payload.time.signature)."""
    return signed.split(".")[0]


def test_a_visitor_is_sent_back_to_the_page_after_signing_in(client) -> None:
    header = _header(client.get("/exercises/no-such-step?x=1").get_data(as_text=True))
    assert 'href="/signin?next=/exercises/no-such-step?x%3D1"' in header
