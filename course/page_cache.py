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

from flask import current_app, request, session
from flask_login import current_user

View = TypeVar("View", bound=Callable[..., Any])


def same_for_every_visitor(view: View) -> View:
    """Serve the rendered page from this worker's copy to visitors who are not signed in."""

    @wraps(view)
    def cached(**kwargs: Any) -> Any:
        if (current_user.is_authenticated or current_app.debug or request.query_string
                or "_flashes" in session):
            return view(**kwargs)
        pages: dict[tuple[str, str], str] = current_app.extensions.setdefault(
            "course_anonymous_pages", {})
        key = (request.script_root, request.path)
        page = pages.get(key)
        if page is None:
            page = view(**kwargs)
            if not isinstance(page, str):  # a redirect or a status: serve it as it is
                return page
            pages[key] = page
        return page

    return cached  # type: ignore[return-value]
