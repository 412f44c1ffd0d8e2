"""Account forms. None of them has a role field: instructors come only from the CLI."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from course.models import User


class _EmailField(EmailField):
    """An email field that stores the normalised address (trimmed, lower case)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data:
            self.data = User.normalise_email(self.data)


class SignUpForm(FlaskForm):
    email = _EmailField("Email", validators=[
        DataRequired("Enter your email address."),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
        Length(max=254)])
    display_name = StringField("Display name", filters=[lambda s: s.strip() if s else s],
                               validators=[DataRequired("Enter the name other people see."),
                                           Length(max=80)])
    password = PasswordField("Password", validators=[
        DataRequired("Choose a password."),
        Length(min=8, max=200, message="Use at least 8 characters.")])
    confirm = PasswordField("Confirm password", validators=[
        DataRequired("Type the password again."),
        EqualTo("password", message="The two passwords do not match.")])
    next = HiddenField()


class SignInForm(FlaskForm):
    email = _EmailField("Email", validators=[DataRequired("Enter your email address."),
                                             Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()
