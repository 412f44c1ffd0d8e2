"""CSRF: every state-changing form refuses a post without this session's token."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from course.db import get_session
from course.models import StepProgress, User
from tests.helpers import PASSWORD, AuthActions, csrf_token, make_user

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"
LESSON = "fixture-welcome"
EXPIRED = "This form has expired or did not come from this site."


@pytest.fixture
def app(make_app) -> Flask:
    return make_app(COURSE_CONTENT_DIR=str(FIXTURE_COURSE))


def count(app: Flask, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as sess:
        return "_user_id" in sess


def assert_refused(response) -> None:
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert 'class="site-header"' in html  # the site's own error page, not a bare one


def sign_up_data(token: str | None) -> dict:
    data = {"email": "ann@example.com", "display_name": "Ann", "password": PASSWORD,
            "confirm": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    return data


def other_sessions_token(app: Flask, url: str = "/signin") -> str:
    """A valid token, but minted for a different browser's session."""
    return csrf_token(app.test_client(), url)


# --- sign up ---------------------------------------------------------------------------


def test_sign_up_without_token(app: Flask, client: FlaskClient) -> None:
    client.get("/signup")
    assert_refused(client.post("/signup", data=sign_up_data(None)))
    assert count(app, User) == 0


def test_sign_up_with_another_sessions_token(app: Flask, client: FlaskClient) -> None:
    client.get("/signup")  # this browser has a session (and its own token) too
    assert_refused(client.post("/signup", data=sign_up_data(other_sessions_token(app))))
    assert count(app, User) == 0


def test_sign_up_with_garbage_token(app: Flask, client: FlaskClient) -> None:
    client.get("/signup")
    assert_refused(client.post("/signup", data=sign_up_data("not-a-token")))
    assert count(app, User) == 0


def test_sign_up_with_own_token_works(app: Flask, client: FlaskClient) -> None:
    response = client.post("/signup", data=sign_up_data(csrf_token(client, "/signup")))
    assert response.status_code == 302
    assert count(app, User) == 1


# --- sign in ---------------------------------------------------------------------------


def test_sign_in_without_token(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    client.get("/signin")
    response = client.post("/signin", data={"email": "learner@example.com",
                                            "password": PASSWORD})
    assert_refused(response)
    assert not signed_in(client)


def test_sign_in_with_another_sessions_token(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    client.get("/signin")
    response = client.post("/signin", data={"email": "learner@example.com",
                                            "password": PASSWORD,
                                            "csrf_token": other_sessions_token(app)})
    assert_refused(response)
    assert not signed_in(client)


def test_sign_in_without_any_session(app: Flask, client: FlaskClient) -> None:
    """A cross-site post from a browser that never visited the site."""
    make_user(app)
    response = client.post("/signin", data={"email": "learner@example.com",
                                            "password": PASSWORD,
                                            "csrf_token": other_sessions_token(app)})
    assert_refused(response)
    assert not signed_in(client)


# --- sign out --------------------------------------------------------------------------


def test_sign_out_without_token(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    assert_refused(client.post("/signout"))
    assert signed_in(client)


def test_sign_out_with_another_sessions_token(app: Flask, client: FlaskClient,
                                              auth: AuthActions) -> None:
    auth.learner()
    assert_refused(client.post("/signout", data={"csrf_token": other_sessions_token(app)}))
    assert signed_in(client)


def test_token_from_before_sign_in_is_no_longer_valid(app: Flask, client: FlaskClient,
                                                      auth: AuthActions) -> None:
    """The session is renewed at sign-in, so a token seen before it stops working."""
    make_user(app)
    old_token = csrf_token(client, "/signin")
    auth.sign_in()
    assert_refused(client.post("/signout", data={"csrf_token": old_token}))
    assert signed_in(client)


# --- the lesson's "Mark as complete" toggle ----------------------------------------------


def test_complete_toggle_without_token(app: Flask, client: FlaskClient,
                                       auth: AuthActions) -> None:
    auth.learner()
    assert_refused(client.post(f"/lessons/{LESSON}/complete", data={"done": "1"}))
    assert count(app, StepProgress) == 0


def test_complete_toggle_with_another_sessions_token(app: Flask, client: FlaskClient,
                                                     auth: AuthActions) -> None:
    auth.learner()
    # The other browser is signed in as someone else and has a real lesson form.
    other = app.test_client()
    AuthActions(other, app).learner("other@example.com", "Other Learner")
    token = csrf_token(other, f"/lessons/{LESSON}")
    response = client.post(f"/lessons/{LESSON}/complete",
                           data={"done": "1", "csrf_token": token})
    assert_refused(response)
    assert count(app, StepProgress) == 0


def test_complete_toggle_with_own_token_works(app: Flask, client: FlaskClient,
                                              auth: AuthActions) -> None:
    auth.learner()
    response = client.post(f"/lessons/{LESSON}/complete", data={
        "done": "1", "csrf_token": csrf_token(client, f"/lessons/{LESSON}")})
    assert response.status_code == 302
    assert count(app, StepProgress) == 1


def test_token_header_is_accepted(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    """Scripts send the token in X-CSRFToken; it is checked the same way."""
    auth.learner()
    token = csrf_token(client, f"/lessons/{LESSON}")
    response = client.post(f"/lessons/{LESSON}/complete", data={"done": "1"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert count(app, StepProgress) == 1


def test_get_requests_need_no_token(client: FlaskClient) -> None:
    for url in ("/", "/signin", "/signup", f"/lessons/{LESSON}"):
        assert client.get(url).status_code == 200


def test_every_form_carries_a_token(client: FlaskClient, auth: AuthActions) -> None:
    for url in ("/signin", "/signup"):
        assert 'name="csrf_token"' in client.get(url).get_data(as_text=True)
    auth.learner()
    html = client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert html.count('name="csrf_token"') == 2  # sign out in the header, and the toggle
