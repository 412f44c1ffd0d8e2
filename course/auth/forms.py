"""Account forms. None of them has a role field: instructors come only from the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    Form,
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from course.models import User
from course.passwords import password_problem
from course.services import email_addresses


class StrongPassword:
    """Refuse short or guessable passwords (course/passwords.py) with its advice.

    `personal` gives the words an attacker would try first for this person: the email
    and name typed in the same form, or those of the signed-in user.
    """

    def __init__(self, personal: Callable[[Form], Iterable[str]]):
        self.personal = personal

    def __call__(self, form: Form, field: Field) -> None:
        problem = password_problem(field.data or "", self.personal(form))
        if problem:
            raise ValidationError(problem)


def field_errors(field: Field) -> list[str]:
    """A field's error list, to add a message found after validation (the stubs type it
    as a read-only sequence; after validate() it is a list)."""
    return cast(list[str], field.errors)


def _typed_identity(form: Form) -> list[str]:
    fields: Any = form  # the sign-up and account forms, which have both fields
    return [fields.email.data or "", fields.display_name.data or ""]


def _account_identity(form: Form) -> list[str]:
    user = getattr(form, "user", None)
    return [user.email, user.display_name] if user is not None else []


_PASSWORD_HINT = ("At least 8 characters. A few unrelated words make a strong password "
                  "that is easy to remember; no symbols or digits needed.")


class _EmailField(EmailField):
    """An email field holding the spelling accounts are looked up by
    (course/services/email_addresses.py): a lookalike finds the account it imitates."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data:
            self.data = email_addresses.lookup_spelling(self.data)


class NewAccountAddress:
    """An address a new account may have: valid, and no lookalike of another
    (email_addresses.normalise says why not)."""

    def __call__(self, form: Form, field: Field) -> None:
        try:
            field.data = email_addresses.normalise(field.data or "")
        except email_addresses.InvalidAddress as exc:
            raise ValidationError(f"Enter an email address like name@example.com. {exc}"
                                  ) from exc


class SignUpForm(FlaskForm):
    email = _EmailField("Email", validators=[
        DataRequired("Enter your email address."),
        NewAccountAddress(), Length(max=254)])
    display_name = StringField("Display name", filters=[lambda s: s.strip() if s else s],
                               validators=[DataRequired("Enter the name other people see."),
                                           Length(max=80)])
    password = PasswordField("Password", description=_PASSWORD_HINT, validators=[
        DataRequired("Choose a password."), StrongPassword(_typed_identity)])
    confirm = PasswordField("Confirm password", validators=[
        DataRequired("Type the password again."),
        EqualTo("password", message="The two passwords do not match.")])
    next = HiddenField()


class SignInForm(FlaskForm):
    email = _EmailField("Email", validators=[DataRequired("Enter your email address."),
                                             Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()


class _NewPasswordForm(FlaskForm):
    """A new password typed twice, judged against the account it is for (`user`)."""

    password = PasswordField("New password", description=_PASSWORD_HINT, validators=[
        DataRequired("Choose a new password."), StrongPassword(_account_identity)])
    confirm = PasswordField("Confirm new password", validators=[
        DataRequired("Type the new password again."),
        EqualTo("password", message="The two passwords do not match.")])

    def __init__(self, user: User, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user


class ForgotPasswordForm(FlaskForm):
    email = _EmailField("Email", validators=[DataRequired("Enter your email address."),
                                             Length(max=254)])


class ResetPasswordForm(_NewPasswordForm):
    pass


class ChangePasswordForm(_NewPasswordForm):
    current = PasswordField("Current password", validators=[
        DataRequired("Enter your current password.")])


class DisplayNameForm(FlaskForm):
    display_name = StringField("Display name", filters=[lambda s: s.strip() if s else s],
                               validators=[DataRequired("Enter the name other people see."),
                                           Length(max=80)])


class EmailSettingsForm(FlaskForm):
    email_on_feedback = BooleanField(
        "Email me when an instructor releases feedback on my work")


class SignOutEverywhereForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[
        DataRequired("Enter your password to confirm.")])
