"""Learner forms."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf


class CompleteForm(FlaskForm):
    """The "Mark as complete" toggle: the wanted state travels with the post."""

    done = HiddenField(validators=[AnyOf(["1", "0"])])
