"""Flask extensions, created unbound and attached in `init_app`."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from course.db import get_session

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(user_id: str):
    from course.models import User

    if not user_id.isdigit():
        return None
    return get_session().get(User, int(user_id))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
