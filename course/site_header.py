"""The site header (templates/_header.html), rendered from what it shows: who is signed in
(their name, whether they teach), how many exercises have new feedback for them, their
session's CSRF token (the "Sign out" form) and the page (which link is the current one).
A visitor's header links "Sign in" back to the page they are on.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup


def site_header() -> Markup:
    """The header for this request (a Jinja global: `{{ site_header() }}` in base.html)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    this = request._get_current_object()  # type: ignore[attr-defined]
    user = current_user._get_current_object()
    title = app.extensions["course"].title
    if not user.is_authenticated:
        back = (this.full_path if this.endpoint not in ("auth.sign_in", "auth.sign_up")
                else None)
        return _render(app, title=title, signed_in=False, endpoint=this.endpoint,
                       sign_in_url=url_for("auth.sign_in", next=back))
    endpoint, blueprint, name = this.endpoint, this.blueprint, user.display_name
    instructor = user.is_instructor
    feedback_count = 0 if instructor else len(user.new_feedback)
    return _render(app, title=title, signed_in=True, endpoint=endpoint, blueprint=blueprint,
                   name=name, instructor=instructor, feedback_count=feedback_count,
                   token=generate_csrf())


def _render(app: Flask, **variables: Any) -> Markup:
    html = app.jinja_env.get_template("_header.html").render(**variables)
    return Markup(html)  # nosec B704  # an autoescaping template's output


def init_app(app: Flask) -> None:
    app.jinja_env.globals["site_header"] = site_header
