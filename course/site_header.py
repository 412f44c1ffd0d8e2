"""The site header (templates/_header.html), kept per signed-in state.

For a signed-in person the header shows only who they are (their name, whether they
teach), how many exercises have new feedback for them, their session's CSRF token (the
"Sign out" form), the page (which link is the current one) and the mount point (its
links), so each app keeps it by exactly those (caches.AppCaches.headers): the partial is
written to use nothing else. A visitor's header links "Sign in" back to the page they are
on, so it is rendered each time (the pages most visitors see are served whole by
course.page_cache). Nothing is kept in debug, where templates change under the
developer's hands.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup

from course.caches import app_caches
from course.extensions import csrf_token


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
    token = csrf_token()

    def render() -> Markup:
        return _render(app, title=title, signed_in=True, endpoint=endpoint,
                       blueprint=blueprint, name=name, instructor=instructor,
                       feedback_count=feedback_count, token=token)

    if app.debug:
        return render()
    state = (this.script_root, endpoint, blueprint, name, instructor, feedback_count, token)
    return app_caches(app).headers.kept(state, render)


def _render(app: Flask, **variables: Any) -> Markup:
    html = app.jinja_env.get_template("_header.html").render(**variables)
    return Markup(html)  # nosec B704  # an autoescaping template's output


def init_app(app: Flask) -> None:
    app.jinja_env.globals["site_header"] = site_header
