"""Account pages: thin views over the forms and services.accounts."""

from __future__ import annotations

from flask import (
    Blueprint,
    after_this_request,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from course import device_cookies
from course.auth.forms import SignInForm, SignUpForm, field_errors
from course.auth.redirects import safe_next
from course.db import get_session
from course.limits import account_digest, failed, rate_limited
from course.logs import AUDIT, get_logger
from course.models import User
from course.services import sign_ins
from course.services.accounts import EmailTaken, authenticate, create_user

bp = Blueprint("auth", __name__)
audit = get_logger(AUDIT)


def _start_session(user: User) -> None:
    """Sign in on a fresh session, so a session id planted before sign-in is worthless.

    The cookie names a new stored sign-in, which sign-out ends for every copy of it. The
    browser also gets the account's device cookie (course/device_cookies.py).
    """
    trust_this_device(user)
    session.clear()
    token = sign_ins.start(get_session(), user)
    # What the user loader gives every later request (course.services.sign_ins).
    login_user(sign_ins.SignedIn(user.id, user.display_name, user.email, user.role, token))


def trust_this_device(user: User) -> None:
    """Give this response the device cookie of `user`, whose owner just proved it (a
    password, or a reset link from their mailbox)."""
    account = account_digest(user.email)
    after_this_request(lambda response: device_cookies.give(response, account))


def _after_sign_in(form_next: str | None, user: User) -> ResponseReturnValue:
    """Where the user asked to go, else their own home: an instructor's is the
    dashboard, not the learner home they have no progress on."""
    home = url_for("instruct.dashboard" if user.is_instructor else "learn.home")
    return redirect(safe_next(form_next) or home)


@bp.route("/signup", methods=["GET", "POST"])
@rate_limited("RATE_LIMIT_SIGN_UP")
def sign_up() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = SignUpForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = create_user(get_session(), form.email.data or "",
                               form.display_name.data or "", form.password.data or "")
        except EmailTaken:
            field_errors(form.email).append(
                "An account with this email already exists. Sign in instead?")
        else:
            _start_session(user)
            audit.info("signed up user=%s address=%s", user.id, request.remote_addr)
            flash(f"Welcome, {user.display_name}! Your progress is saved from now on.",
                  "success")
            return _after_sign_in(form.next.data, user)
    status = 400 if form.errors else 200
    return render_template("auth/sign_up.html", form=form), status


@bp.route("/signin", methods=["GET", "POST"])
@rate_limited("RATE_LIMIT_SIGN_IN", deduct_when=failed)
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = SignInForm(next=request.args.get("next"))
    if form.validate_on_submit():
        user = authenticate(get_session(), form.email.data or "", form.password.data or "")
        if user is not None:
            _start_session(user)
            audit.info("signed in user=%s address=%s", user.id, request.remote_addr)
            flash(f"Signed in as {user.display_name}.", "success")
            return _after_sign_in(form.next.data, user)
        audit.warning("sign-in refused email=%s address=%s", form.email.data,
                      request.remote_addr)
        field_errors(form.password).append("That email and password do not match an account.")
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/signout")
@login_required
def sign_out() -> ResponseReturnValue:
    sign_ins.end(get_session(), current_user.sign_in_token)
    audit.info("signed out user=%s", current_user.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("learn.home"))
