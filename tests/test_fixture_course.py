"""COURSE_CONTENT_DIR: the app serves whichever course folder it is pointed at."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from course.config import REPO_ROOT
from course.site import get_course
from tests.helpers import AuthActions, csrf_token

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"


@pytest.fixture
def fixture_app(make_app) -> Flask:
    return make_app(COURSE_CONTENT_DIR=str(FIXTURE_COURSE))


@pytest.fixture
def fixture_client(fixture_app: Flask) -> FlaskClient:
    return fixture_app.test_client()


def test_default_app_serves_the_shipped_course(app: Flask) -> None:
    assert app.config["COURSE_CONTENT_DIR"] == str(REPO_ROOT)
    with app.app_context():
        assert get_course().title == "Introduction to Product Management"


def test_home_shows_the_fixture_course(fixture_client: FlaskClient) -> None:
    response = fixture_client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Fixture Course on Testing</h1>" in html
    assert "<strong>tiny</strong>" in html
    assert "<h3>Fixture basics</h3>" in html and "<h3>Fixture advanced</h3>" in html
    assert 'href="/lessons/fixture-welcome"' in html
    assert 'href="/lessons/fixture-next-steps"' in html
    assert "2 steps" in html
    assert "Introduction to Product Management" not in html
    assert "Forkcast" not in html


def test_fixture_lessons_are_served(fixture_client: FlaskClient) -> None:
    response = fixture_client.get("/lessons/fixture-welcome")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Welcome to the fixture</h1>" in html
    assert "<strong>first</strong>" in html
    assert 'href="/lessons/fixture-next-steps" rel="next"' in html
    assert 'rel="prev"' not in html
    assert "Fixture basics" in html  # the section title in the eyebrow

    html = fixture_client.get("/lessons/fixture-next-steps").get_data(as_text=True)
    assert 'href="/lessons/fixture-welcome" rel="prev"' in html
    assert 'rel="next"' not in html


def test_shipped_lessons_are_not_served(fixture_client: FlaskClient) -> None:
    assert fixture_client.get("/lessons/what-product-managers-do").status_code == 404
    assert fixture_client.get("/lessons/product-vision").status_code == 404


def test_fixture_course_progress(fixture_app: Flask, fixture_client: FlaskClient) -> None:
    AuthActions(fixture_client, fixture_app).learner()
    token = csrf_token(fixture_client, "/lessons/fixture-welcome")
    response = fixture_client.post("/lessons/fixture-welcome/complete",
                                   data={"csrf_token": token, "done": "1"})
    assert response.status_code == 302
    html = fixture_client.get("/progress").get_data(as_text=True)
    assert "1 of 2" in html
    assert '<progress max="2" value="1"' in html


def test_content_dir_from_the_environment(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(FIXTURE_COURSE))
    app = make_app()
    assert app.config["COURSE_CONTENT_DIR"] == str(FIXTURE_COURSE)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "Fixture Course on Testing" in html
