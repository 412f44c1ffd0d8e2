"""Session cookies (course/sessions.py): Flask's signed cookies, with the serializer built
once per secret key and nothing done for an empty session."""

from __future__ import annotations

from tests.helpers import csrf_token


def test_a_new_secret_key_ends_old_sessions_unless_it_is_a_fallback(app, client, auth) -> None:
    auth.learner()
    name = app.config["SESSION_COOKIE_NAME"]
    signed_with_old_key = client.get_cookie(name).value

    def progress_status() -> int:
        browser = app.test_client()
        browser.set_cookie(name, signed_with_old_key)
        return browser.get("/progress").status_code

    assert progress_status() == 200
    old_key = app.secret_key
    app.secret_key = "a-rotated-secret-key"
    assert progress_status() == 302  # not a session any more, so not signed in
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert progress_status() == 200


def test_an_unused_session_sets_no_cookie_and_a_used_one_does(app, client) -> None:
    page = client.get("/lessons/no-such-lesson")  # reads the session, stores nothing
    assert page.status_code == 404
    assert "Set-Cookie" not in page.headers
    assert "Cookie" in page.vary
    token = csrf_token(client)  # the sign-in form keeps its token in the session
    assert token and client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None


def test_signing_out_clears_the_session_cookie(client, auth) -> None:
    auth.learner()
    response = auth.sign_out()
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies)
    assert client.get("/progress").status_code == 302
