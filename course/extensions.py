"""Flask extensions, created unbound and attached in `init_app`, and the session cookies."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from course.db import get_session
from course.models import User
from course.sessions import CookieSessions


class SafeMethodsUnchecked(CSRFProtect):
    """CSRFProtect that dismisses a GET at once: Flask-WTF looks up the view's exemptions
    before it looks at the method, on every page view, only to skip the check."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method in current_app.config["WTF_CSRF_METHODS"]:
            super().protect(apply_exemptions)


login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = SafeMethodsUnchecked()


@login_manager.user_loader
def _load_user(cookie_id: str) -> User | None:
    """The user of a live sign-in: an ended or unknown one is treated as signed out."""
    from course.services.sign_ins import signed_in_user

    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    return signed_in_user(get_session(), int(user_id), token)


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
