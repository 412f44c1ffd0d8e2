"""The account page: name, password, sign out everywhere, my data, delete my account.

Each section of the page is its own small form posting to its own route, so adding a
section (say email preferences) is a form class, a route here and one partial in
templates/auth/account/ listed in `SECTIONS`; a failed post re-renders the whole page
with that section's errors and a 400.
"""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm

from course import mail
from course.auth.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    DisplayNameForm,
    EmailSettingsForm,
    SignOutEverywhereForm,
)
from course.auth.views import bp
from course.db import get_session
from course.limits import failed, rate_limited
from course.logs import AUDIT, get_logger
from course.models import User
from course.models.timestamps import utcnow
from course.services import account_data, accounts, sign_ins
from course.site import get_course

audit = get_logger(AUDIT)

#: The page's sections, top to bottom: a partial under templates/auth/account/ each.
SECTIONS = ["name", "email", "password", "sessions", "data", "delete"]


def _account() -> User:
    """The signed-in account as a model, for the pages that show or change it (every
    other page has what it needs in `current_user`, course.services.sign_ins.SignedIn)."""
    user = get_session().get(User, current_user.id) or abort(404)
    user.sign_in_token = current_user.sign_in_token  # the sign-in a password change keeps
    return user


def _page(status: int = 200, **posted: FlaskForm) -> ResponseReturnValue:
    """The page; a section's just-posted form (with its errors) replaces its blank one."""
    user = _account()
    forms: dict[str, FlaskForm] = {
        "name": DisplayNameForm(formdata=None, prefix="name", display_name=user.display_name),
        "email": EmailSettingsForm(formdata=None, prefix="email",
                                   email_on_feedback=user.email_on_feedback),
        "password": ChangePasswordForm(user, formdata=None, prefix="password"),
        "sessions": SignOutEverywhereForm(formdata=None, prefix="sessions"),
        "delete": DeleteAccountForm(formdata=None, prefix="delete"),
    }
    forms.update(posted)
    return render_template("auth/account.html", forms=forms, sections=SECTIONS), status


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return _page()


@bp.post("/account/name")
@login_required
def change_name() -> ResponseReturnValue:
    form = DisplayNameForm(prefix="name")
    if not form.validate_on_submit():
        return _page(400, name=form)
    accounts.change_display_name(get_session(), _account(), form.display_name.data or "")
    flash("Your display name is changed.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/email")
@login_required
def change_email_settings() -> ResponseReturnValue:
    form = EmailSettingsForm(prefix="email")
    if not form.validate_on_submit():
        return _page(400, email=form)
    accounts.set_email_on_feedback(get_session(), _account(), form.email_on_feedback.data)
    flash("Feedback emails are on." if form.email_on_feedback.data else
          "Feedback emails are off: you will see new feedback on My progress.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/password")
@login_required
@rate_limited("RATE_LIMIT_SIGN_IN", deduct_when=failed)
def change_password() -> ResponseReturnValue:
    user = _account()
    form = ChangePasswordForm(user, prefix="password")
    if form.validate_on_submit():
        if user.check_password(form.current.data or ""):
            ended = accounts.change_password(get_session(), user, form.password.data or "")
            audit.info("password changed user=%s other_sessions_ended=%s", user.id, ended)
            flash("Your password is changed. Any other browser signed in to your account "
                  "has been signed out.", "success")
            return redirect(url_for("auth.account"))
        form.current.errors = ["That is not your current password."]
    return _page(400, password=form)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    form = SignOutEverywhereForm(prefix="sessions")
    if not form.validate_on_submit():
        return _page(400, sessions=form)
    user_id = current_user.id
    ended = sign_ins.end_all(get_session(), user_id)
    audit.info("signed out everywhere user=%s sessions_ended=%s", user_id, ended)
    logout_user()
    session.clear()
    flash("You are signed out on every browser and device, this one included.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.get("/account/my-data.json")
@login_required
def download_data() -> ResponseReturnValue:
    """Everything we hold about the learner, as a JSON file to keep."""
    data = account_data.export(get_session(), _account(), utcnow())
    response = Response(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                        mimetype="application/json")
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="course-data-{stamp}.json"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/delete")
@login_required
@rate_limited("RATE_LIMIT_SIGN_IN", deduct_when=failed)
def delete_account() -> ResponseReturnValue:
    user = _account()
    form = DeleteAccountForm(prefix="delete")
    if form.validate_on_submit():
        if user.check_password(form.password.data or ""):
            user_id, email = user.id, user.email
            account_data.delete_account(get_session(), user, get_course())
            mail.forget_recipient(email)  # the outbox's copies of mail to the account
            audit.info("account deleted user=%s", user_id)
            logout_user()
            session.clear()
            flash("Your account and everything you did in the course are deleted.", "info")
            return redirect(url_for("learn.home"))
        form.password.errors = ["That is not your password; nothing was deleted."]
    return _page(400, delete=form)
