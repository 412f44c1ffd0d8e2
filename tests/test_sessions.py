"""Session cookies (course/overrides.py): Flask's signed cookies, with the serializer built
once per secret key and nothing done for an empty session."""

from __future__ import annotations

import time

from tests.helpers import csrf_token

LESSON = "what-product-managers-do"


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


def test_a_signed_in_page_varies_on_the_cookie_and_the_encoding_once_each(client, auth
                                                                         ) -> None:
    auth.learner()
    page = client.get("/progress")
    assert page.status_code == 200
    assert sorted(v.strip() for v in page.headers["Vary"].split(",")) == [
        "Accept-Encoding", "Cookie"]


def test_signing_out_clears_the_session_cookie(client, auth) -> None:
    auth.learner()
    response = auth.sign_out()
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies)
    assert client.get("/progress").status_code == 302


def test_a_remembered_session_still_expires(app, client, auth, monkeypatch) -> None:
    """The worker remembers what a checked cookie holds, not that it is valid forever."""
    auth.learner()
    assert client.get("/progress").status_code == 200  # checked, and remembered
    assert client.get("/progress").status_code == 200  # served from what was remembered
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/progress").status_code == 302  # expired: signed out


def test_a_session_holding_flashed_messages_shows_each_once(app, client, auth) -> None:
    """Flask changes the list of flashed messages in place: what the worker remembers of a
    cookie must not keep a message that was shown (nor lose one)."""
    auth.learner()
    cookie = app.config["SESSION_COOKIE_NAME"]
    client.post("/account/email", data={"email-csrf_token": csrf_token(client, "/account"),
                                        "email-email_on_feedback": "y"})
    with_message = client.get_cookie(cookie).value
    for _ in range(2):  # the same cookie twice (a reload before the answer came back)
        browser = app.test_client()
        browser.set_cookie(cookie, with_message)
        assert "Feedback emails are on" in browser.get("/account").get_data(as_text=True)
    assert "Feedback emails are on" in client.get("/account").get_data(as_text=True)
    assert "Feedback emails are on" not in client.get("/account").get_data(as_text=True)
