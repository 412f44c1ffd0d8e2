"""Accounts: sign up, sign in, sign out, session renewal and the `next` redirect."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from course.auth.redirects import safe_next
from course.db import get_session
from course.models import Role, User
from tests.helpers import PASSWORD, AuthActions, csrf_token, make_user

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"


@pytest.fixture
def app(make_app) -> Flask:
    """Accounts do not depend on the course content: serve the small fixture course."""
    return make_app(COURSE_CONTENT_DIR=str(FIXTURE_COURSE))


def users(app: Flask) -> list[User]:
    with app.app_context():
        return list(get_session().scalars(select(User).order_by(User.id)))


def user_count(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(User))


def signed_in_user_id(client: FlaskClient) -> str | None:
    """The user id the session cookie names (it also carries the sign-in's token)."""
    with client.session_transaction() as sess:
        cookie_id = sess.get("_user_id")
    return cookie_id.partition(":")[0] if cookie_id else None


# --- sign up ---------------------------------------------------------------------------


def test_sign_up_page_renders(client: FlaskClient) -> None:
    response = client.get("/signup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Create your account" in html
    assert 'name="csrf_token"' in html
    assert 'name="role"' not in html  # instructors come only from the CLI


def test_sign_up_signs_in_and_goes_home(app: Flask, client: FlaskClient,
                                        auth: AuthActions) -> None:
    response = auth.sign_up(email="ann@example.com", name="Ann Example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    [user] = users(app)
    assert user.email == "ann@example.com"
    assert user.display_name == "Ann Example"
    assert user.role == Role.LEARNER.value
    assert signed_in_user_id(client) == str(user.id)

    home = client.get("/")
    html = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Welcome, Ann Example!" in html
    assert "My progress" in html
    assert "Sign out" in html


def test_signed_in_visitor_is_sent_home_from_sign_up_and_sign_in(client: FlaskClient,
                                                                 auth: AuthActions) -> None:
    auth.learner()
    assert client.get("/signup").headers["Location"] == "/"
    assert client.get("/signin").headers["Location"] == "/"


@pytest.mark.parametrize("fields,message", [
    ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
    ({"email": ""}, "Enter your email address."),
    ({"password": "short", "confirm": "short"}, "Use at least 8 characters."),
    ({"confirm": "something else entirely"}, "The two passwords do not match."),
    ({"email": "teacher@example.com", "password": "teacher-example-2026",
      "confirm": "teacher-example-2026"}, "It is made from your own email address or name."),
    ({"display_name": "   "}, "Enter the name other people see."),
])
def test_sign_up_field_errors(app: Flask, client: FlaskClient, fields: dict,
                              message: str) -> None:
    data = {"csrf_token": csrf_token(client, "/signup"), "email": "ann@example.com",
            "display_name": "Ann", "password": PASSWORD, "confirm": PASSWORD}
    data.update(fields)
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert user_count(app) == 0
    assert signed_in_user_id(client) is None


def test_sign_up_errors_do_not_echo_passwords(client: FlaskClient, auth: AuthActions) -> None:
    response = auth.sign_up(email="bad", password="secret-value-123")
    assert response.status_code == 400
    assert "secret-value-123" not in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["learner@example.com", "Learner@Example.COM",
                                   "  learner@example.com  ", " LEARNER@EXAMPLE.COM"])
def test_duplicate_email_is_refused_politely(app: Flask, client: FlaskClient,
                                             auth: AuthActions, email: str) -> None:
    make_user(app, "learner@example.com")
    response = auth.sign_up(email=email, name="Someone Else")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "An account with this email already exists. Sign in instead?" in html
    assert "Traceback" not in html
    assert [u.display_name for u in users(app)] == ["Lee Learner"]
    assert signed_in_user_id(client) is None


def test_email_is_normalised(app: Flask, auth: AuthActions) -> None:
    response = auth.sign_up(email="  Ann.Example@Example.ORG ", name="  Ann  ")
    assert response.status_code == 302
    [user] = users(app)
    assert user.email == "ann.example@example.org"
    assert user.display_name == "Ann"


# Issue 20 finding 10: lookalikes of alice@example.com signed up beside it.
FULL_WIDTH_E = "alice@\uff45xample.com"  # a full-width e in the domain
DOTLESS_I = "al\u0131ce@example.com"
CYRILLIC_A_DOMAIN = "alice@ex\u0430mple.com"


@pytest.mark.parametrize("lookalike", [FULL_WIDTH_E, "\uff41lice@example.com",
                                       "alice@EXAMPLE.com", "alice@xn--exmple-cua.com"])
def test_a_lookalike_address_is_the_account_it_imitates(app: Flask, auth: AuthActions,
                                                        lookalike: str) -> None:
    """Compatibility forms and case fold to one spelling (NFKC, IDNA): signing up again is
    "already exists", signing in with the lookalike is signing in to that account."""
    original = "alice@exämple.com" if "xn--" in lookalike else "alice@example.com"
    make_user(app, original, "Alice")
    refused = auth.sign_up(email=lookalike, name="Mallory")
    assert refused.status_code == 400
    assert "An account with this email already exists" in refused.get_data(as_text=True)
    assert [u.email for u in users(app)] == [original]
    assert auth.sign_in(email=lookalike).status_code == 302


@pytest.mark.parametrize("lookalike", [DOTLESS_I, "\u0430lice@example.com",
                                       CYRILLIC_A_DOMAIN])
def test_a_lookalike_in_another_alphabet_is_refused(app: Flask, auth: AuthActions,
                                                    lookalike: str) -> None:
    """A dotless i or a Cyrillic a passes for a Latin letter: no account is made with one
    (local parts are ASCII; a domain label may not mix Latin, Cyrillic and Greek)."""
    make_user(app, "alice@example.com", "Alice")
    refused = auth.sign_up(email=lookalike, name="Mallory")
    assert refused.status_code == 400
    assert "Enter an email address like name@example.com." in refused.get_data(as_text=True)
    assert [u.email for u in users(app)] == ["alice@example.com"]
    assert auth.sign_in(email=lookalike).status_code == 400


def test_create_user_normalises_like_sign_up(app: Flask) -> None:
    make_user(app, "alice@example.com", "Alice")
    runner = app.test_cli_runner()
    same = runner.invoke(args=["create-user", "--password-stdin", FULL_WIDTH_E],
                         input=PASSWORD + "\n")
    assert same.exit_code == 1 and "already exists" in same.output
    other = runner.invoke(args=["create-user", "--password-stdin", DOTLESS_I],
                          input=PASSWORD + "\n")
    assert other.exit_code == 2 and "not an email address" in other.output
    assert [u.email for u in users(app)] == ["alice@example.com"]


def test_sign_in_with_differently_cased_email(client: FlaskClient, auth: AuthActions,
                                              app: Flask) -> None:
    user = make_user(app, "learner@example.com")
    response = auth.sign_in(email=" LEARNER@example.com ")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.id)


def test_password_is_stored_hashed(app: Flask, auth: AuthActions) -> None:
    auth.sign_up(email="ann@example.com", password=PASSWORD)
    [user] = users(app)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.split(":")[0] in {"scrypt", "pbkdf2"}
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD + "x")


def test_two_accounts_with_one_password_get_different_hashes(app: Flask) -> None:
    make_user(app, "a@example.com")
    make_user(app, "b@example.com")
    first, second = users(app)
    assert first.password_hash != second.password_hash


# --- sign in / sign out ----------------------------------------------------------------


def test_sign_in_page_renders(client: FlaskClient) -> None:
    response = client.get("/signin")
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in response.get_data(as_text=True)


def test_an_instructor_lands_on_the_dashboard_unless_asked_elsewhere(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    response = auth.sign_in("teacher@example.com")
    assert response.headers["Location"] == "/instructor/"
    assert "Signed in as Ines Instructor." in client.get("/instructor/").get_data(as_text=True)
    auth.sign_out()
    response = auth.sign_in("teacher@example.com", next="/instructor/gradebook")
    assert response.headers["Location"] == "/instructor/gradebook"


def test_sign_in_and_out(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    user = make_user(app)
    response = auth.sign_in()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_user_id(client) == str(user.id)
    assert "Signed in as Lee Learner." in client.get("/").get_data(as_text=True)

    response = auth.sign_out()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_user_id(client) is None
    html = client.get("/").get_data(as_text=True)
    assert "You are signed out." in html
    assert "My progress" not in html
    assert client.get("/progress").status_code == 302


@pytest.mark.parametrize("email,password", [
    ("learner@example.com", "wrong password!"),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_credentials_are_refused(app: Flask, client: FlaskClient, auth: AuthActions,
                                       email: str, password: str) -> None:
    make_user(app)
    response = auth.sign_in(email=email, password=password)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The same message for an unknown email and a wrong password: no account probing.
    assert "That email and password do not match an account." in html
    assert signed_in_user_id(client) is None


def test_sign_in_with_empty_fields(client: FlaskClient) -> None:
    response = client.post("/signin", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html


def test_sign_out_needs_post(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    assert client.get("/signout").status_code == 405
    assert signed_in_user_id(client) is not None


def test_sign_out_when_signed_out_goes_to_sign_in(client: FlaskClient) -> None:
    response = client.post("/signout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin")


def test_session_is_renewed_at_sign_in(app: Flask, client: FlaskClient,
                                       auth: AuthActions) -> None:
    make_user(app)
    client.get("/signin")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        old_csrf = sess.get("csrf_token")
    assert old_csrf
    auth.sign_in()
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != old_csrf
        assert sess.get("_user_id")


def test_session_is_renewed_at_sign_up(client: FlaskClient, auth: AuthActions) -> None:
    client.get("/signup")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.sign_up()
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_session_is_cleared_at_sign_out(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    with client.session_transaction() as sess:
        sess["left-over"] = "value"
    auth.sign_out()
    with client.session_transaction() as sess:
        assert "left-over" not in sess
        assert "_user_id" not in sess


def test_session_cookie_flags(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    make_user(app)
    response = auth.sign_in()
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2  # the session and the device cookie (course/device_cookies.py)
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


# --- where to go after signing in -------------------------------------------------------


@pytest.mark.parametrize("target", ["/progress", "/lessons/product-vision",
                                    "/lessons/product-vision?x=1#part"])
def test_next_to_a_local_path(app: Flask, auth: AuthActions, target: str) -> None:
    make_user(app)
    response = auth.sign_in(next=target)
    assert response.headers["Location"] == target


def test_next_after_sign_up(auth: AuthActions) -> None:
    response = auth.sign_up(next="/progress")
    assert response.headers["Location"] == "/progress"


def test_next_from_query_string_is_kept_in_the_form(client: FlaskClient) -> None:
    html = client.get("/signin?next=/progress").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/progress"' in html
    # The link to sign up passes it on.
    assert 'href="/signup?next=/progress"' in html


def test_login_required_page_sends_to_sign_in_and_back(app: Flask, client: FlaskClient,
                                                       auth: AuthActions) -> None:
    make_user(app)
    response = client.get("/progress")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/signin?next=")
    html = client.get(location).get_data(as_text=True)
    assert "Please sign in to continue." in html
    assert 'value="/progress"' in html
    assert auth.sign_in(next="/progress").headers["Location"] == "/progress"


OPEN_REDIRECTS = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "%2F%5Cevil.example",
    "https%3A%2F%2Fevil.example",
    "%252F%252Fevil.example",
    "%25252F%25252Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "java%0Ascript:alert(1)",
    "java\nscript:alert(1)",
    "evil.example",
    "///evil.example",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_open_redirect_after_sign_in_goes_home(app: Flask, auth: AuthActions,
                                               target: str) -> None:
    make_user(app)
    response = auth.sign_in(next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_open_redirect_after_sign_up_goes_home(auth: AuthActions, target: str) -> None:
    response = auth.sign_up(next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_safe_next_refuses_other_sites(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize("target,expected", [
    ("/", "/"),
    ("/progress", "/progress"),
    ("/lessons/product-vision?tab=1#top", "/lessons/product-vision?tab=1#top"),
    ("%2Fprogress", "/progress"),
    ("/lessons/a%20b", "/lessons/a b"),
])
def test_safe_next_keeps_local_paths(target: str, expected: str) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize("target", [None, "", "progress", "lessons/x", "?next=/"])
def test_safe_next_refuses_empty_and_relative(target: str | None) -> None:
    assert safe_next(target) is None


def test_safe_next_refuses_endless_encoding() -> None:
    target = "//evil.example"
    for _ in range(8):
        target = target.replace("%", "%25").replace("/", "%2F")
    assert safe_next(target) is None
