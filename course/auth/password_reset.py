"""Forgotten passwords: ask for a link by email, then choose a new password with it.

Both are rate limited per network address and per account (course/limits.py,
RATE_LIMIT_PASSWORD_RESET), so the form cannot be used to flood someone's inbox. The
answer to "send me a link" is the same page whether or not the address has an
account, and it takes the same time: the address is looked up and the mail sent from
a background thread after the answer (an SMTP round trip, or even building the message,
would otherwise tell who has an account).
"""

from __future__ import annotations

import threading

from flask import (
    Flask,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue

from course.auth.forms import ForgotPasswordForm, ResetPasswordForm
from course.auth.views import bp, trust_this_device
from course.db import get_session
from course.limits import rate_limited
from course.links import public_url
from course.logs import AUDIT, get_logger
from course.mail import MailError, send_mail
from course.services import accounts, password_reset
from course.services.accounts import find_by_email
from course.site import get_course

audit = get_logger(AUDIT)
log = get_logger(__name__)

_SUBJECT = "Choose a new password"
_BODY = """Hello {name},

Someone (we hope you) asked to choose a new password for your account on
{course}. To choose one, open this link within {minutes} minutes:

{link}

The link works once. If you did not ask for it, ignore this message: your password
stays as it is.
"""


def _mail_a_link(app: Flask, email: str) -> None:
    """Look the address up and, when it has an account, mail it a reset link.

    Runs after the answer is sent, in its own thread, app context and database session:
    the request does the same work whether or not the account exists. The link is on
    PUBLIC_URL (course/links.py), whatever Host the request named.
    """
    with app.app_context():
        try:
            user = find_by_email(get_session(), email)
            if user is None:
                audit.info("password reset requested for an address with no account")
                return
            token = password_reset.make_token(user, app.config["SECRET_KEY"])
            send_mail(user.email, _SUBJECT, _BODY.format(
                name=user.display_name, course=get_course().title,
                minutes=int(password_reset.LIFETIME.total_seconds() // 60),
                link=public_url("auth.reset_password", token=token)))
            audit.info("password reset requested user=%s", user.id)
        except MailError:
            log.exception("password reset mail to %s failed", email)
        except Exception:  # a thread's error has nobody else to report it
            log.exception("password reset for %s failed", email)


#: The refusal of a reset request over the limit. The account's limit also counts an
#: attacker's requests, but each of those mailed the owner a link that works for an hour:
#: the owner is never without one, and this page says where it is.
RESET_REFUSAL = ("Too many reset links were asked for in a short time. If this address has "
                 "an account, the links already sent are in its mailbox: use the newest, "
                 "it works for an hour. Or wait a while and ask again.")


@bp.route("/forgot-password", methods=["GET", "POST"])
@rate_limited("RATE_LIMIT_PASSWORD_RESET", refusal=RESET_REFUSAL)
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        work = threading.Thread(target=_mail_a_link, name="reset-mail", daemon=True,
                                args=(app, form.email.data or ""))
        response = make_response(
            render_template("auth/forgot_password_sent.html", email=form.email.data))
        response.call_on_close(work.start)  # once the answer is sent
        return response
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
        trust_this_device(user)  # the owner's next sign-in never waits on an attacker's
        audit.info("password reset user=%s", user.id)
        flash("Your password is changed and every browser signed in to your account is "
              "signed out. Sign in with your new password.", "success")
        return redirect(url_for("auth.sign_in"))
    status = 400 if form.errors else 200
    return render_template("auth/reset_password.html", form=form), status
