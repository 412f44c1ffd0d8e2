"""Flask extensions, created unbound and attached in `init_app`, the session cookies, and
the signed-in user's loading (one query: course.services.sign_ins.signed_in)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from course.db import get_session
from course.overrides import CookieSessions
from course.services.sign_ins import SignedIn, signed_in

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = CSRFProtect()


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
