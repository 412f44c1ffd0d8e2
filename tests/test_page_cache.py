"""The course home and lessons are rendered once for visitors who are not signed in
(course/page_cache.py): what a visitor sees must never depend on that copy."""

from __future__ import annotations

import gzip
import logging

from course.caches import app_caches
from course.site import get_course


def _a_lesson(app, index: int = 0) -> str:
    with app.app_context():
        return [s.id for s in get_course().steps if s.kind == "lesson"][index]


def test_a_visitor_gets_the_same_page_again_and_no_session_cookie(client, app) -> None:
    lesson = f"/lessons/{_a_lesson(app)}"
    for url in ("/", lesson):
        first = client.get(url)
        again = client.get(url)
        assert first.status_code == again.status_code == 200
        assert first.get_data() == again.get_data()
        # No form on a visitor's page, so no CSRF token and no cookie to carry one.
        assert "Set-Cookie" not in first.headers and "Set-Cookie" not in again.headers
        assert 'name="csrf_token"' not in first.get_data(as_text=True)
    assert app_caches(app).pages.keys() == {("", "/"), ("", lesson)}


def test_signed_in_learners_never_get_the_visitors_copy(client, app, auth) -> None:
    lesson = f"/lessons/{_a_lesson(app)}"
    visitor_home = client.get("/").get_data(as_text=True)
    visitor_lesson = client.get(lesson).get_data(as_text=True)
    auth.learner()
    home = client.get("/").get_data(as_text=True)
    page = client.get(lesson).get_data(as_text=True)
    assert "Sign up to save your progress" in visitor_home
    assert "Sign up to save your progress" not in home and "Your progress" in home
    assert "to keep track of the lessons you have finished" in visitor_lesson
    assert "Mark as complete" in page and 'name="csrf_token"' in page
    auth.sign_out()
    # Signed out again: the flashed message is shown, not hidden behind the copy.
    after = client.get("/").get_data(as_text=True)
    assert "You are signed out." in after
    assert client.get("/").get_data(as_text=True) == visitor_home


def test_query_strings_and_unknown_lessons_are_not_kept(client, app) -> None:
    assert client.get("/?utm=1").status_code == 200
    assert client.get("/lessons/no-such-lesson").status_code == 404
    assert len(app_caches(app).pages) == 0


def test_a_visitor_without_cookies_gets_the_copy_with_every_header(make_app, monkeypatch,
                                                                   caplog) -> None:
    """The copy is served without opening a session or asking Flask-Login who is there
    (course/page_cache.py): what every response carries must still be on it."""
    monkeypatch.setenv("COURSE_ENV", "production")
    app = make_app(PUBLIC_URL="https://course.example")
    client = app.test_client()
    lesson = f"/lessons/{_a_lesson(app)}"
    caplog.set_level(logging.INFO, logger="course.request")
    for url in ("/", lesson):
        first, again = client.get(url), client.get(url)
        assert first.get_data() == again.get_data()
        for response in (first, again):
            assert response.status_code == 200
            assert response.content_type == "text/html; charset=utf-8"
            assert "Set-Cookie" not in response.headers
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            assert "object-src 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "same-origin"
            # The page differs for a signed-in learner: shared caches must key on the cookie.
            assert {"Cookie", "Accept-Encoding"} <= set(response.vary)
            assert "no-store" not in response.headers.get("Cache-Control", "")
    lines = [r.getMessage().split() for r in caplog.records if r.name == "course.request"]
    assert [(line[1], line[2], line[4]) for line in lines] == [
        ("/", "200", "user=-")] * 2 + [(lesson, "200", "user=-")] * 2
    assert app_caches(app).pages.keys() == {("", "/"), ("", lesson)}


def test_a_cookie_that_names_nobody_still_gets_the_copy(client, app) -> None:
    """A session cookie without a sign-in (say, one left by a form page) is looked at,
    and the visitor gets the same page as one without cookies."""
    visitor_home = client.get("/").get_data()
    client.get("/signin")  # its form's CSRF token is kept in a session cookie
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    assert client.get("/").get_data() == visitor_home


def _replaced_view(app, text: str = "from the app") -> None:
    """Swap the lesson view for one that says where the answer came from."""
    app.view_functions["learn.lesson"] = lambda **_: text


def test_a_visitor_is_answered_again_without_the_app(client, app, caplog) -> None:
    lesson = f"/lessons/{_a_lesson(app)}"
    first = client.get(lesson)
    _replaced_view(app)
    caplog.set_level(logging.INFO, logger="course.request")
    caplog.clear()
    again = client.get(lesson)
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    line = [r.getMessage().split() for r in caplog.records if r.name == "course.request"]
    assert [(m, p, s, u) for m, p, s, _, u in line] == [("GET", lesson, "200", "user=-")]
    assert len(app_caches(app).answers) == 1


def test_only_a_request_like_the_first_is_replayed(client, app) -> None:
    lesson = f"/lessons/{_a_lesson(app)}"
    plain = client.get(lesson).get_data()
    packed = client.get(lesson, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain
    _replaced_view(app)
    again = client.get(lesson, headers={"Accept-Encoding": "gzip"})
    assert again.get_data() == packed.get_data()
    # Dated anew when the app's answer was dated (Flask-Compress's conditional answer is).
    assert ("Date" in again.headers) == ("Date" in packed.headers)
    assert client.get(lesson).get_data() == plain
    # Anything that may change the answer reaches the app.
    assert client.get(lesson + "?utm=1").get_data(as_text=True) == "from the app"
    assert client.head(lesson).status_code == 200
    assert client.get(lesson, data={"x": "\x00"}).status_code == 400  # a body is checked
    assert client.get(lesson, base_url="http://other.example").get_data(
        as_text=True) == "from the app"  # another host
    assert client.get(lesson, base_url="https://localhost").get_data(
        as_text=True) == "from the app"  # another scheme
    client.set_cookie("anything", "1")
    assert client.get(lesson).get_data(as_text=True) == "from the app"


def test_answers_are_kept_by_the_encoding_chosen_not_the_header(client, app) -> None:
    """Browsers write Accept-Encoding in countless ways: however many are seen, a page
    keeps one answer per encoding, and a lesson asked for after a flood of new ways is
    still answered from the copy."""
    lesson = f"/lessons/{_a_lesson(app)}"
    for n in range(300):
        spelling = f"gzip;q=0.{n % 9 + 1}, x-made-up-{n}"
        assert client.get(lesson, headers={"Accept-Encoding": spelling}).headers[
            "Content-Encoding"] == "gzip"
    caches = app_caches(app)
    assert {key[-1] for key in caches.answers} == {"gzip"}
    assert len(caches.encodings) <= caches.encodings.size
    other = _a_lesson(app, 1)
    packed = client.get(f"/lessons/{other}", headers={"Accept-Encoding": "gzip, br"})
    _replaced_view(app)
    again = client.get(f"/lessons/{other}", headers={"Accept-Encoding": "gzip, br"})
    assert again.get_data() == packed.get_data()
    last = client.get(lesson, headers={"Accept-Encoding": spelling})
    assert gzip.decompress(last.get_data()) != b"from the app"  # replayed, as before
