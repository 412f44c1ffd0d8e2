"""The account lifecycle: sign-out that really ends a session, the account page (name,
password, sign out everywhere, my data, delete), forgotten passwords and password rules."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from course import mail
from course.db import get_session
from course.links import DEVELOPMENT_URL
from course.models import Attempt, QueuedMail, Role, ScoreChange, SignIn, StepProgress, User
from course.models.timestamps import utcnow
from course.services import mail_queue, password_reset
from course.services.progress import set_complete
from tests.helpers import PASSWORD, AuthActions, csrf_token, make_user
from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit
from tests.smtp_server import local_smtp

NEW_PASSWORD = "plum kettle orbit seven"


def _token(client: FlaskClient) -> str:
    return csrf_token(client, "/")


def _same_cookies(client: FlaskClient, app: Flask) -> FlaskClient:
    """A second browser holding a copy of `client`'s cookies (a captured cookie)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def _post(client: FlaskClient, url: str, data: dict[str, str]):
    return client.post(url, data={**data, "csrf_token": _token(client)})


def _user(app: Flask, email: str) -> User | None:
    with app.app_context():
        return get_session().scalar(select(User).where(User.email == email))


# --- sign-out ends the session for real -------------------------------------------------


def test_a_captured_cookie_stops_working_after_sign_out(app, client, auth):
    auth.learner()
    thief = _same_cookies(client, app)
    assert _signed_in(thief)
    auth.sign_out()
    assert not _signed_in(thief)
    assert not _signed_in(client)


def test_an_instructors_captured_cookie_cannot_download_the_gradebook_after_sign_out(
        app, client, auth):
    auth.instructor()
    thief = _same_cookies(client, app)
    assert thief.get("/instructor/gradebook.csv").status_code == 200
    auth.sign_out()
    response = thief.get("/instructor/gradebook.csv")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_a_remember_me_cookie_stops_working_after_sign_out(app, client, auth):
    """The remember-me cookie names the same stored sign-in as the session."""
    auth.learner()
    with client.session_transaction() as sess:
        cookie_id = sess["_user_id"]
    with app.test_request_context():
        remembered = encode_cookie(cookie_id)
    other = app.test_client()
    other.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), remembered)
    assert _signed_in(other)
    auth.sign_out()
    fresh = app.test_client()
    fresh.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), remembered)
    assert not _signed_in(fresh)


def test_signing_out_in_one_browser_leaves_the_others_signed_in(app, client, auth):
    auth.learner()
    laptop = app.test_client()
    AuthActions(laptop, app).sign_in()
    auth.sign_out()
    assert _signed_in(laptop)


def test_a_cookie_from_before_sign_ins_were_stored_is_refused(app, client, auth):
    user = auth.learner()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)  # the old format: the id alone
    assert not _signed_in(client)


def test_a_sign_in_older_than_its_lifetime_is_refused(app, client, auth):
    auth.learner()
    with app.app_context():
        session = get_session()
        for row in session.scalars(select(SignIn)):
            row.created_at = utcnow().replace(year=utcnow().year - 1)
        session.commit()
    assert not _signed_in(client)


def test_sign_out_everywhere_ends_every_session(app, client, auth):
    auth.learner()
    laptop = app.test_client()
    AuthActions(laptop, app).sign_in()
    thief = _same_cookies(client, app)
    response = _post(client, "/account/sign-out-everywhere", {})
    assert response.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(laptop)
    assert not _signed_in(thief)
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(SignIn)) == 0


# --- account page -------------------------------------------------------------------------


def test_account_page_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_account_page_shows_every_section(client, auth):
    auth.learner()
    html = client.get("/account").get_data(as_text=True)
    for heading in ("Display name", "Emails", "Password", "Signed-in browsers", "Your data",
                    "Delete your account"):
        assert f">{heading}</h2>" in html
    assert html.count('csrf_token" type="hidden"') == 5
    assert 'href="/account" aria-current="page"' in html


def test_change_display_name(app, client, auth):
    auth.learner()
    response = _post(client, "/account/name", {"name-display_name": "  Lee L.  "})
    assert response.status_code == 302
    assert _user(app, "learner@example.com").display_name == "Lee L."
    assert "Your display name is changed." in client.get("/account").get_data(as_text=True)


def test_an_empty_display_name_is_refused(app, client, auth):
    auth.learner()
    response = _post(client, "/account/name", {"name-display_name": "   "})
    assert response.status_code == 400
    assert "Enter the name other people see." in response.get_data(as_text=True)
    assert _user(app, "learner@example.com").display_name == "Lee Learner"


def test_change_password_ends_other_sessions_but_not_this_one(app, client, auth):
    auth.learner()
    laptop = app.test_client()
    AuthActions(laptop, app).sign_in()
    thief = _same_cookies(laptop, app)
    response = _post(client, "/account/password", {
        "password-current": PASSWORD, "password-password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(laptop)
    assert not _signed_in(thief)
    assert _user(app, "learner@example.com").check_password(NEW_PASSWORD)


def test_change_password_needs_the_current_one(app, client, auth):
    auth.learner()
    response = _post(client, "/account/password", {
        "password-current": "not my password", "password-password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    assert _user(app, "learner@example.com").check_password(PASSWORD)


@pytest.mark.parametrize(("new", "message"), [
    ("short", "Use at least 8 characters."),
    ("password1", "This is a very common password."),
    ("qwertyuiop", "common password"),
    ("learner@example.com", "easy to guess"),
])
def test_a_guessable_new_password_is_refused_with_advice(app, client, auth, new, message):
    auth.learner()
    response = _post(client, "/account/password", {
        "password-current": PASSWORD, "password-password": new, "password-confirm": new})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "A few unrelated words" in html
    assert _user(app, "learner@example.com").check_password(PASSWORD)


def test_a_long_passphrase_is_welcome(app, client, auth):
    auth.learner()
    long = "the heron waits by the cold river while the ferry hums its old tune " * 2
    response = _post(client, "/account/password", {
        "password-current": PASSWORD, "password-password": long, "password-confirm": long})
    assert response.status_code == 302
    assert _user(app, "learner@example.com").check_password(long)


def test_sign_up_refuses_a_common_password(app, auth):
    response = auth.sign_up(email="ann@example.com", password="iloveyou2024")
    assert response.status_code == 400
    assert "similar to a commonly used password" in response.get_data(as_text=True)
    assert _user(app, "ann@example.com") is None


def test_account_forms_need_a_csrf_token(app, client, auth):
    auth.learner()
    for url, data in [("/account/name", {"name-display_name": "X"}),
                      ("/account/sign-out-everywhere", {}),
                      ("/account/delete", {"delete-password": PASSWORD})]:
        assert client.post(url, data=data).status_code == 400
    assert _user(app, "learner@example.com").display_name == "Lee Learner"
    assert _signed_in(client)


# --- download my data ---------------------------------------------------------------------


def _reviewed_attempt(app: Flask, user_id: int, reviewer_id: int) -> int:
    attempt_id = submit(app, user_id, VISION, VISION_ANSWER)
    with app.app_context():
        session = get_session()
        attempt = session.get(Attempt, attempt_id)
        attempt.rubric = {"clear": 2}
        attempt.instructor_feedback = "A clear vision; sharpen the strategy."
        attempt.reviewed_at = utcnow()
        attempt.reviewer_id = reviewer_id
        attempt.score = 0.8
        attempt.status = "reviewed"
        session.add(ScoreChange(attempt_id=attempt_id, changed_by_id=reviewer_id,
                                kind="review", old_score=None, new_score=0.8,
                                reason="Rubric review"))
        session.commit()
    return attempt_id


def _stored_answer(app: Flask, user_id: int, exercise_id: str) -> dict:
    with app.app_context():
        return get_session().scalar(select(Attempt.answer).where(
            Attempt.user_id == user_id, Attempt.exercise_id == exercise_id))


def test_download_my_data(app, client, auth):
    teacher = make_user(app, "teacher@example.com", "Ines", role=Role.INSTRUCTOR)
    user = auth.learner()
    other = make_user(app, "other@example.com", "Other")
    submit(app, user.id, SORT, sort_form(app, wrong=1))
    _reviewed_attempt(app, user.id, teacher.id)
    submit(app, other.id, SORT, sort_form(app))
    with app.app_context():
        set_complete(get_session(), user.id, "vision-vs-strategy", done=True)
    response = client.get("/account/my-data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "learner@example.com"
    assert data["account"]["display_name"] == "Lee Learner"
    assert [a["exercise"] for a in data["attempts"]] == [SORT, VISION]
    sort_attempt, vision = data["attempts"]
    assert sort_attempt["answer"] and sort_attempt["feedback"]
    assert 0 < sort_attempt["score"] < 1
    assert sort_attempt["review"] is None
    assert vision["answer"] == _stored_answer(app, user.id, VISION)
    assert vision["review"]["comment"] == "A clear vision; sharpen the strategy."
    assert vision["score"] == 0.8
    assert {p["step"] for p in data["progress"]} == {SORT, "vision-vs-strategy"}
    assert "other@example.com" not in response.get_data(as_text=True)


def test_my_data_leaves_out_a_review_still_in_draft(app, client, auth):
    teacher = make_user(app, "teacher@example.com", "Ines", role=Role.INSTRUCTOR)
    user = auth.learner()
    attempt_id = submit(app, user.id, VISION, VISION_ANSWER)
    with app.app_context():
        session = get_session()
        attempt = session.get(Attempt, attempt_id)
        attempt.draft = {"feedback": "Draft words the learner must not see yet",
                         "score": 0.1}
        attempt.draft_by_id = teacher.id
        attempt.draft_saved_at = utcnow()
        session.commit()
    text = client.get("/account/my-data.json").get_data(as_text=True)
    [exported] = json.loads(text)["attempts"]
    assert exported["review"] is None
    assert exported["score"] is None
    assert "Draft words" not in text


# --- delete my account --------------------------------------------------------------------


def test_delete_account_needs_the_password(app, client, auth):
    auth.learner()
    response = _post(client, "/account/delete", {"delete-password": "wrong password"})
    assert response.status_code == 400
    assert "nothing was deleted" in response.get_data(as_text=True)
    assert _user(app, "learner@example.com") is not None


def test_delete_account_removes_the_learner_and_keeps_an_anonymous_audit_trail(
        app, client, auth):
    teacher = make_user(app, "teacher@example.com", "Ines", role=Role.INSTRUCTOR)
    user = auth.learner()
    other = make_user(app, "other@example.com", "Other")
    submit(app, user.id, SORT, sort_form(app))
    reviewed = _reviewed_attempt(app, user.id, teacher.id)
    kept = _reviewed_attempt(app, other.id, teacher.id)
    thief = _same_cookies(client, app)
    with app.app_context():  # feedback mail the server has not taken yet
        mail_queue.enqueue(get_session(), [mail_queue.Message(
            "learner@example.com", "Feedback", "..."), mail_queue.Message(
            "other@example.com", "Feedback", "...")])
        get_session().commit()

    response = _post(client, "/account/delete", {"delete-password": PASSWORD})
    assert response.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(thief)
    with app.app_context():
        session = get_session()
        assert session.get(User, user.id) is None
        assert session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.user_id == user.id)) == 0
        assert session.scalar(select(func.count()).select_from(StepProgress).where(
            StepProgress.user_id == user.id)) == 0
        assert session.get(Attempt, reviewed) is None
        changes = session.scalars(select(ScoreChange).order_by(ScoreChange.id)).all()
        # Both review records stay; the deleted learner's no longer points at their work.
        assert [(c.attempt_id, c.changed_by_id, c.new_score) for c in changes] == [
            (None, teacher.id, 0.8), (kept, teacher.id, 0.8)]
        assert session.get(Attempt, kept) is not None
        assert session.get(User, other.id) is not None
        assert session.scalars(select(QueuedMail.recipient)).all() == ["other@example.com"]
    # Signing up again with the address starts from nothing.
    AuthActions(client, app).sign_up(email="learner@example.com")
    data = json.loads(client.get("/account/my-data.json").get_data(as_text=True))
    assert data["attempts"] == [] and data["progress"] == []


def test_delete_account_deletes_the_outbox_mail_to_the_address(app, client, auth):
    """Without MAIL_SERVER, mail is kept as .eml files: the deleted account's go too (its
    name, email and links), everyone else's stay."""
    auth.learner()
    make_user(app, "other@example.com", "Other")
    with app.app_context():
        for to in ("learner@example.com", "other@example.com", "Learner@Example.com"):
            mail.send_mail(to, "Feedback", "Hello Lee Learner")
    assert len(_outbox(app)) == 3
    assert _post(client, "/account/delete", {"delete-password": PASSWORD}).status_code == 302
    assert [m["To"] for m in _outbox(app)] == ["other@example.com"]


def test_an_instructor_can_delete_their_account_and_their_reviews_stay(app, client, auth):
    teacher = auth.instructor()
    learner = make_user(app, "ann@example.com", "Ann")
    attempt_id = _reviewed_attempt(app, learner.id, teacher.id)
    assert _post(client, "/account/delete", {"delete-password": PASSWORD}).status_code == 302
    with app.app_context():
        session = get_session()
        attempt = session.get(Attempt, attempt_id)
        assert attempt.reviewer_id is None
        assert attempt.instructor_feedback == "A clear vision; sharpen the strategy."
        [change] = session.scalars(select(ScoreChange)).all()
        assert (change.attempt_id, change.changed_by_id) == (attempt_id, None)


# --- forgotten password -------------------------------------------------------------------


def _outbox(app: Flask) -> list:
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))]


def _wait_for_mail(read, count: int = 1, timeout: float = 10.0) -> list:
    """Reset mail is sent from a background thread; wait for it (bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = read()
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError(f"expected {count} message(s), got {len(read())}")


def _link(message) -> str:
    match = re.search(r"https?://\S+/reset-password/\S+", message.get_content())
    assert match, message.get_content()
    return match.group(0)


def _path(link: str) -> str:
    """The link's path, to follow it with the test client (links name PUBLIC_URL's host)."""
    return urlsplit(link).path


def _ask_for_link(client: FlaskClient, email: str, **kwargs):
    """Ask for a link and close the response, as a WSGI server does once it has sent it:
    the mail goes out only then."""
    response = client.post("/forgot-password", data={
        "csrf_token": csrf_token(client, "/forgot-password"), "email": email}, **kwargs)
    response.close()
    return response


def test_sign_in_page_links_to_forgot_password(client):
    html = client.get("/signin").get_data(as_text=True)
    assert 'href="/forgot-password">Forgot your password?</a>' in html


def test_no_mail_leaves_before_the_answer_is_sent(app, client):
    """The lookup and the mail wait until the response is closed (sent), so the answer
    takes the same time whether or not the address has an account."""
    make_user(app)
    response = client.post("/forgot-password", data={
        "csrf_token": csrf_token(client, "/forgot-password"), "email": "learner@example.com"})
    assert response.status_code == 200
    assert _outbox(app) == []
    response.close()
    assert len(_wait_for_mail(lambda: _outbox(app))) == 1


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, client):
    make_user(app)
    known = _ask_for_link(client, "learner@example.com")
    unknown = _ask_for_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert (known.get_data(as_text=True).replace("learner@example.com", "X")
            == unknown.get_data(as_text=True).replace("nobody@example.com", "X"))
    messages = _wait_for_mail(lambda: _outbox(app))
    assert [m["To"] for m in messages] == ["learner@example.com"]


def test_reset_through_the_outbox_link_works_once(app, client, auth):
    make_user(app)
    phone = app.test_client()
    AuthActions(phone, app).sign_in()
    _ask_for_link(client, "LEARNER@example.com ")
    [message] = _wait_for_mail(lambda: _outbox(app))
    assert message["Subject"] == "Choose a new password"
    link = _path(_link(message))
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"csrf_token": csrf_token(client, link),
                                   "password": "password123", "confirm": "password123"})
    assert weak.status_code == 400
    assert "common" in weak.get_data(as_text=True)
    done = client.post(link, data={"csrf_token": csrf_token(client, link),
                                   "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/signin"
    assert not _signed_in(phone)
    assert auth.sign_in(password=PASSWORD).status_code == 400
    assert auth.sign_in(password=NEW_PASSWORD).status_code == 302
    auth.sign_out()
    # Used once: the same link is refused now.
    again = client.get(link)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)


def test_an_expired_or_forged_reset_link_is_refused(app, client):
    user = make_user(app)
    with app.app_context():
        token = password_reset.make_token(user, app.config["SECRET_KEY"])
        from datetime import timedelta
        assert password_reset.user_for_token(get_session(), token, app.config["SECRET_KEY"],
                                             max_age=timedelta(seconds=-1)) is None
        assert password_reset.user_for_token(get_session(), token,
                                             "another secret") is None
        assert password_reset.user_for_token(get_session(), token,
                                             app.config["SECRET_KEY"]).id == user.id
    assert client.get(f"/reset-password/{token}x").status_code == 404
    assert client.get("/reset-password/not-a-token").status_code == 404


def test_a_lookalike_address_asks_for_the_real_accounts_link(app, client):
    """Issue 20 finding 10: a reset asked for with a full-width e goes to the account it
    spells (one spelling per address); one with a Cyrillic e is nobody's."""
    make_user(app)
    _ask_for_link(client, "learner@\uff45xample.com")
    _ask_for_link(client, "l\u0435arner@example.com")
    messages = _wait_for_mail(lambda: _outbox(app))
    assert [m["To"] for m in messages] == ["learner@example.com"]


def test_reset_link_uses_public_url_when_set(make_app):
    app = make_app(PUBLIC_URL="https://course.example.org/")
    make_user(app)
    client = app.test_client()
    _ask_for_link(client, "learner@example.com")
    [message] = _wait_for_mail(lambda: _outbox(app))
    assert _link(message).startswith("https://course.example.org/reset-password/")


@pytest.mark.parametrize("public_url", [None, "https://course.example.org"])
def test_a_forged_host_never_names_the_reset_links_site(make_app, public_url):
    """Issue 20 finding 1: `Host: evil.example` on "forgot my password" mailed the victim
    http://evil.example/reset-password/<live token>. The link is on PUBLIC_URL (or,
    outside production and unset, the development server's address), never the Host."""
    app = make_app(PUBLIC_URL=public_url)
    make_user(app)
    client = app.test_client()
    evil = "http://evil.example"
    page = client.get("/forgot-password", base_url=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, page
    response = client.post("/forgot-password", base_url=evil, data={
        "csrf_token": token.group(1), "email": "learner@example.com"})
    assert response.status_code == 200
    response.close()
    [message] = _wait_for_mail(lambda: _outbox(app))
    expected = public_url or DEVELOPMENT_URL
    assert _link(message).startswith(f"{expected}/reset-password/")
    assert "evil.example" not in message.get_content()


def test_reset_mail_goes_through_a_real_smtp_server(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none",
                       MAIL_FROM="Course <course@example.org>")
        make_user(app)
        client = app.test_client()
        _ask_for_link(client, "learner@example.com")
        [message] = _wait_for_mail(lambda: smtp.received.messages)
    assert message["To"] == "learner@example.com"
    link = _path(_link(message))
    assert client.get(link).status_code == 200


def test_a_bad_address_on_forgot_password_is_a_400(client):
    response = client.post("/forgot-password", data={
        "csrf_token": csrf_token(client, "/forgot-password"), "email": ""})
    assert response.status_code == 400
    assert "Enter your email address." in response.get_data(as_text=True)


def test_asking_for_reset_links_is_rate_limited_per_account(make_app):
    app = make_app(RATE_LIMIT_PASSWORD_RESET="3 per hour")
    make_user(app)
    client = app.test_client()
    for n in range(3):
        response = _ask_for_link(client, "learner@example.com",
                                 environ_base={"REMOTE_ADDR": f"10.1.{n}.1"})
        assert response.status_code == 200
    refused = _ask_for_link(client, "learner@example.com",
                            environ_base={"REMOTE_ADDR": "10.1.9.1"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many reset links" in refused.get_data(as_text=True)
    assert len(_wait_for_mail(lambda: _outbox(app), count=3)) == 3


def test_posting_to_reset_links_is_rate_limited_per_address(make_app):
    app = make_app(RATE_LIMIT_PASSWORD_RESET="2 per hour")
    client = app.test_client()
    token = csrf_token(client, "/forgot-password")
    for _ in range(2):
        response = client.post("/reset-password/guessed-token", data={
            "csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 404
    assert client.post("/reset-password/guessed-token", data={
        "csrf_token": token, "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}).status_code == 429
