"""Flask extensions, created unbound and attached in `init_app`, the session cookies, the
signed-in user's loading (one query: course.services.sign_ins.signed_in) and each
session's CSRF token."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect, generate_csrf

from course.caches import app_caches
from course.db import get_session
from course.overrides import CookieSessions
from course.services.sign_ins import SignedIn, signed_in

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = CSRFProtect()


def csrf_token() -> str:
    """Flask-WTF's `generate_csrf` (the `csrf_token()` of templates, the header's "Sign
    out" form), signing each session's token once per worker (caches.AppCaches.csrf_tokens)
    instead of on every page: every signed-in page has a form, and signing costs a key
    derivation and an HMAC.

    The raw token is Flask-WTF's own, made by `generate_csrf` for a session without one.
    A kept token is as valid as a new one only while tokens carry no time limit, so with
    WTF_CSRF_TIME_LIMIT set every token is signed anew.
    """
    if "csrf_token" in g:
        return str(g.csrf_token)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["WTF_CSRF_TIME_LIMIT"] is not None:
        return str(generate_csrf())
    if not isinstance(session.get("csrf_token"), str):
        generate_csrf()  # the session's raw token (signed too, and kept in g by Flask-WTF)
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    token = app_caches(app).csrf_tokens.kept((secret, session["csrf_token"]),
                                              lambda: str(generate_csrf()))
    g.csrf_token = token
    return token


@login_manager.user_loader
def _load_user(cookie_id: str) -> SignedIn | None:
    """The person of a live sign-in, in one query on the request's session (what the
    header shows with it); an ended or unknown one is treated as signed out."""
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    return signed_in(get_session(), int(user_id), token)


@login_manager.unauthorized_handler
def _sign_in_first() -> ResponseReturnValue:
    """Send a signed-out visitor to sign in, then back to the page they were on.

    For a POST (say "Mark as complete" after the session ended) the way back is the page
    the form was on, not the form's action, which cannot be opened with a GET.
    """
    flash(login_manager.login_message, login_manager.login_message_category)
    if request.method == "GET":
        target: str | None = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host
        target = (referrer.path + (f"?{referrer.query}" if referrer.query else "")
                  if same_site else None)
    return redirect(url_for("auth.sign_in", next=target))


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    login_manager.init_app(app)
    csrf.init_app(app)
    # Flask-WTF puts its generate_csrf in every template's context: this one comes after.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
