"""Forgotten passwords: ask for a link by email, then choose a new password with it.

Both are rate limited per network address and per account (course/limits.py,
RATE_LIMIT_PASSWORD_RESET), so the form cannot be used to flood someone's inbox. The
answer to "send me a link" is the same page whether or not the address has an
account, and the mail is sent from a background thread so the answer also takes the
same time either way (an SMTP round trip would otherwise tell who has an account).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from course.auth.forms import ForgotPasswordForm, ResetPasswordForm
from course.auth.views import bp
from course.db import get_session
from course.limits import rate_limited
from course.logs import AUDIT
from course.mail import MailError, send_mail
from course.services import accounts, password_reset
from course.services.accounts import find_by_email
from course.site import get_course

audit = logging.getLogger(AUDIT)
log = logging.getLogger(__name__)

_SUBJECT = "Choose a new password"
_BODY = """Hello {name},

Someone (we hope you) asked to choose a new password for your account on
{course}. To choose one, open this link within {minutes} minutes:

{link}

The link works once. If you did not ask for it, ignore this message: your password
stays as it is.
"""


def _reset_link(token: str) -> str:
    """The link in the mail: on PUBLIC_URL when set, so a forged Host header cannot
    point it at another site; else on the address this request came to."""
    path = url_for("auth.reset_password", token=token)
    base = current_app.config.get("PUBLIC_URL")
    return base.rstrip("/") + path if base else url_for(
        "auth.reset_password", token=token, _external=True)


def _send_in_background(app: Flask, to: str, subject: str, body: str) -> threading.Thread:
    def send() -> None:
        with app.app_context():
            try:
                send_mail(to, subject, body)
            except MailError:
                log.exception("password reset mail to %s failed", to)

    thread = threading.Thread(target=send, name="reset-mail", daemon=True)
    thread.start()
    return thread


@bp.route("/forgot-password", methods=["GET", "POST"])
@rate_limited("RATE_LIMIT_PASSWORD_RESET")
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = find_by_email(get_session(), form.email.data or "")
        if user is not None:
            token = password_reset.make_token(user, current_app.config["SECRET_KEY"])
            body = _BODY.format(
                name=user.display_name, course=get_course().title,
                minutes=int(password_reset.LIFETIME.total_seconds() // 60),
                link=_reset_link(token))
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            _send_in_background(app, user.email, _SUBJECT, body)
            audit.info("password reset requested user=%s", user.id)
        else:
            audit.info("password reset requested for an address with no account")
        return render_template("auth/forgot_password_sent.html", email=form.email.data)
    status = 400 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@rate_limited("RATE_LIMIT_PASSWORD_RESET")
def reset_password(token: str) -> ResponseReturnValue:
    user = password_reset.user_for_token(get_session(), token,
                                         current_app.config["SECRET_KEY"])
    if user is None:
        return render_template("auth/reset_password_invalid.html"), 404
    form = ResetPasswordForm(user)
    if form.validate_on_submit():
        accounts.reset_password(get_session(), user, form.password.data or "")
        audit.info("password reset user=%s", user.id)
        flash("Your password is changed and every browser signed in to your account is "
              "signed out. Sign in with your new password.", "success")
        return redirect(url_for("auth.sign_in"))
    status = 400 if form.errors else 200
    return render_template("auth/reset_password.html", form=form), status
