"""Pages that are the same for every visitor who is not signed in, rendered once.

The course home and the lessons are built only from the course content, which is loaded
once at start-up and never changes while the app runs (`flask dev` restarts the server
when a course file changes). For a visitor who is not signed in they are therefore the
same bytes on every request, so each worker renders them once and then serves its copy:
rendering the course outline or a lesson costs several times more than everything else
in a request. Signed-in learners always get a fresh page (their progress is on it).

Nothing is kept when it could differ between two visitors or grow without bound: not in
debug (templates and static files change under the developer's hands), not when the
session holds flashed messages, not for a URL with a query string, and only a 200.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME

View = TypeVar("View", bound=Callable[..., Any])


def same_for_every_visitor(view: View) -> View:
    """Serve the rendered page from this worker's copy to visitors who are not signed in."""

    @wraps(view)
    def cached(**kwargs: Any) -> Any:
        # Each use of Flask's `request` or `current_app` proxy costs about as much as
        # the dictionary look-up below: take the objects once.
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        this: Request = request._get_current_object()  # type: ignore[attr-defined]
        if app.debug or this.query_string:
            return view(**kwargs)
        if _has_cookies(app, this) and (current_user.is_authenticated or "_flashes" in session):
            return view(**kwargs)
        pages: dict[tuple[str, str], bytes] = app.extensions.setdefault(
            "course_anonymous_pages", {})
        key = (this.script_root, this.path)
        page = pages.get(key)
        if page is None:
            rendered = view(**kwargs)
            if not isinstance(rendered, str):  # a redirect or a status: serve it as it is
                return rendered
            # Kept encoded: the response would otherwise encode the same text every time.
            page = pages[key] = rendered.encode()
        return page

    return cached  # type: ignore[return-value]


def _has_cookies(app: Flask, this: Request) -> bool:
    """Whether the request carries a session or remember-me cookie. Without either, the
    visitor is not signed in and has no flashed message waiting, which is known without
    asking Flask-Login (its session check and user loading cost more than the rest of
    serving the copy) and without opening the session."""
    if "HTTP_COOKIE" not in this.environ:  # no Cookie header: nothing to parse
        return False
    return (app.config["SESSION_COOKIE_NAME"] in this.cookies
            or app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in this.cookies)
