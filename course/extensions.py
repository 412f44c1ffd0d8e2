"""Flask extensions, created unbound and attached in `init_app`, the session cookies, and
the signed-in user's loading (one query: course.services.sign_ins.signed_in)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect, generate_csrf

from course.db import get_session
from course.kept import kept
from course.services.sign_ins import SignedIn, signed_in
from course.sessions import CookieSessions


class SafeMethodsUnchecked(CSRFProtect):
    """CSRFProtect that dismisses a GET at once: Flask-WTF looks up the view's exemptions
    before it looks at the method, on every page view, only to skip the check."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method in current_app.config["WTF_CSRF_METHODS"]:
            super().protect(apply_exemptions)


#: How many signed CSRF tokens each app keeps before it starts again from none.
TOKENS_KEPT = 1024


def csrf_token() -> str:
    """Flask-WTF's `generate_csrf` (the `csrf_token()` of templates), signing each
    session's token once per worker instead of on every page.

    Every signed-in page has a form (the header's "Sign out"), and signing costs a key
    derivation and an HMAC. Tokens carry no time limit here (WTF_CSRF_TIME_LIMIT is None:
    a token is good for as long as its session), so a token signed for this session's
    raw token earlier is as valid as a new one. The raw token is Flask-WTF's own, and a
    session without one gets it from `generate_csrf` as before.
    """
    if "csrf_token" in g:
        return str(g.csrf_token)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    signed: dict[tuple[object, str], str] = app.extensions.setdefault("course_csrf", {})
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    if not isinstance(session.get("csrf_token"), str):
        generate_csrf()  # the session's raw token (signed too, and kept in g by Flask-WTF)
    token = kept(signed, (secret, session["csrf_token"]), lambda: str(generate_csrf()),
                 TOKENS_KEPT)
    g.csrf_token = token
    return token


login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = SafeMethodsUnchecked()


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
