"""Public pages: the course outline, lessons, their pager, and error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from course.caches import app_caches
from course.site import get_course, step_url
from tests.helpers import AuthActions, csrf_token

REPO = Path(__file__).resolve().parents[1]


def course_of(app: Flask):
    with app.app_context():
        return get_course()


def urls_of(app: Flask, steps) -> list[str]:
    with app.test_request_context():
        return [step_url(s) for s in steps]


def assert_in_layout(html: str) -> None:
    assert 'class="site-header"' in html
    assert 'class="site-footer"' in html
    assert "Back to the course" in html


def assert_no_stack_trace(html: str) -> None:
    for leak in ("Traceback", 'File "', "werkzeug", "site-packages", "Werkzeug Debugger"):
        assert leak not in html


# --- home ------------------------------------------------------------------------------


def test_home_shows_the_course_outline(app: Flask, client: FlaskClient) -> None:
    course = course_of(app)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<h1>{course.title}</h1>" in html
    assert "<strong>Forkcast</strong>" in html  # the description is rendered Markdown
    assert f"{len(course.steps)} steps" in html

    # Every section with steps, in order, then every step in outline order.
    positions = [html.index(f"<h3>{section.title}</h3>") for section in course.sections]
    assert positions == sorted(positions)
    links = [html.index(f'<a href="{url}">', positions[0])
             for url in urls_of(app, course.steps)]
    assert links == sorted(links)
    for step in course.steps:
        assert f'<span class="step-title">{escape(step.title)}</span>' in html


def test_home_for_anonymous_visitor_invites_sign_up(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Sign up to save your progress" in html
    assert "Your progress" not in html
    assert "Not done" not in html


def test_home_for_learner_shows_progress(app: Flask, client: FlaskClient,
                                        auth: AuthActions) -> None:
    auth.learner()
    html = client.get("/").get_data(as_text=True)
    total = len(course_of(app).steps)
    assert f"0 of {total}" in html
    assert html.count("</span>Not started</span>") == total
    assert "Sign up to save your progress" not in html


def test_layout_links_follow_the_mount_point(client: FlaskClient, auth: AuthActions) -> None:
    """The header's links and static URLs are remembered per mount point: the same app
    served at two prefixes links each page under its own."""
    auth.learner()
    for root in ("", "/course", "/elsewhere", "/course"):
        html = client.get("/progress", base_url=f"http://localhost{root}/").get_data(
            as_text=True)
        assert f'<a class="brand" href="{root}/">' in html
        assert f'<a href="{root}/progress" aria-current="page">My progress' in html
        assert f'action="{root}/signout"' in html
        assert re.search(rf'href="{root}/static/style\.css\?v=[0-9a-f]{{12}}"', html)


def test_remembered_urls_are_kept_in_the_bounded_cache(app: Flask, client: FlaskClient,
                                                       auth: AuthActions) -> None:
    """The links a page remembers live in caches.AppCaches.urls, an LRU: pages under ever
    new mount points cost at most its bound, the oldest links going first."""
    auth.learner()
    urls = app_caches(app).urls
    urls.size = 8  # fewer than one page's links, so a second mount point pushes some out
    for root in ("/first", "/second", "/third"):
        assert client.get("/progress", base_url=f"http://localhost{root}/").status_code == 200
    assert len(urls) == urls.size
    assert {root for root, _ in urls} == {"/third"}


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- lessons ---------------------------------------------------------------------------


def test_every_lesson_is_readable_anonymously(app: Flask, client: FlaskClient) -> None:
    lessons = [s for s in course_of(app).steps if s.kind == "lesson"]
    assert len(lessons) == len(list((REPO / "lessons").glob("*.md")))
    for lesson in lessons:
        response = client.get(f"/lessons/{lesson.id}")
        assert response.status_code == 200, lesson.id
        html = response.get_data(as_text=True)
        assert f"<h1>{escape(lesson.title)}</h1>" in html
        assert f"{lesson.minutes} min read" in html


def test_lesson_body_is_rendered_markdown(client: FlaskClient) -> None:
    html = client.get("/lessons/what-product-managers-do").get_data(as_text=True)
    assert "<table>" in html
    assert "<strong>both</strong>" in html
    assert ('<h2 id="the-tools-you-will-learn-in-this-course">'
            "The tools you will learn in this course</h2>") in html


def test_previous_and_next_follow_the_outline(app: Flask, client: FlaskClient) -> None:
    course = course_of(app)
    steps = list(course.steps)
    urls = dict(zip([s.id for s in steps], urls_of(app, steps), strict=True))
    for i, step in enumerate(steps):
        if step.kind != "lesson":
            continue
        html = client.get(f"/lessons/{step.id}").get_data(as_text=True)
        prev_link = re.search(r'<a class="pager-prev" href="([^"]+)" rel="prev">', html)
        next_link = re.search(r'<a class="pager-next" href="([^"]+)" rel="next">', html)
        if i == 0:
            assert prev_link is None
        else:
            assert prev_link and prev_link.group(1) == urls[steps[i - 1].id], step.id
        if i == len(steps) - 1:
            assert next_link is None
        else:
            assert next_link and next_link.group(1) == urls[steps[i + 1].id], step.id


def test_first_lesson_has_no_previous(app: Flask, client: FlaskClient) -> None:
    first = course_of(app).steps[0]
    assert first.kind == "lesson"
    html = client.get(f"/lessons/{first.id}").get_data(as_text=True)
    assert 'rel="prev"' not in html
    assert 'rel="next"' in html


def test_unknown_lesson_is_404_in_layout(client: FlaskClient) -> None:
    response = client.get("/lessons/no-such-lesson")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "There is no page at this address." in html
    assert "<title>404" in html


def test_exercise_id_is_not_a_lesson(app: Flask, client: FlaskClient) -> None:
    exercise = course_of(app).exercises[0]
    assert client.get(f"/lessons/{exercise.id}").status_code == 404


def test_unknown_address_is_404_in_layout(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_in_layout(response.get_data(as_text=True))


# --- error pages -----------------------------------------------------------------------


def test_500_is_in_layout_without_stack_trace(make_app) -> None:
    # Not TESTING-style propagation: the app must handle the error as in production.
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/test-only/explode", "test_explode", explode)
    response = app.test_client().get("/test-only/explode")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "Something went wrong on our side. Please try again." in html
    assert "secret internal detail" not in html
    assert "RuntimeError" not in html
    assert_no_stack_trace(html)


def test_500_for_a_signed_in_learner(make_app) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise ZeroDivisionError

    app.add_url_rule("/test-only/explode", "test_explode", explode)
    client = app.test_client()
    AuthActions(client, app).learner()
    response = client.get("/test-only/explode")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "My progress" in html  # still the learner's header
    assert_no_stack_trace(html)


def test_405_is_in_layout(client: FlaskClient) -> None:
    response = client.get("/signout")
    assert response.status_code == 405
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "That action is not allowed here." in html


def test_413_for_an_oversized_post(client: FlaskClient) -> None:
    token = csrf_token(client, "/signin")
    response = client.post("/signin", data={"csrf_token": token, "email": "a@example.com",
                                            "password": "x" * (300 * 1024)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "What you sent is too large." in html
    assert_no_stack_trace(html)


def test_post_just_under_the_limit_is_read(client: FlaskClient) -> None:
    token = csrf_token(client, "/signin")
    response = client.post("/signin", data={"csrf_token": token, "email": "a@example.com",
                                            "password": "x" * (200 * 1024)})
    assert response.status_code == 400  # a normal "wrong password", not 413
    assert "do not match an account" in response.get_data(as_text=True)


def test_csrf_failure_is_in_layout(client: FlaskClient) -> None:
    client.get("/signin")
    response = client.post("/signin", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert "Reload the page and try again." in html


@pytest.mark.parametrize("code,message", [
    (403, "You do not have access to this page."),
    (409, "Someone else changed this first."),
])
def test_other_http_errors_use_friendly_messages(make_app, code: int, message: str) -> None:
    from flask import abort

    app = make_app()
    app.add_url_rule(f"/test-only/{code}", f"test_{code}", lambda: abort(code))
    response = app.test_client().get(f"/test-only/{code}")
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert_in_layout(html)
    assert message in html


def test_static_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()
