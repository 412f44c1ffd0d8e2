"""Flask extensions, created unbound and attached in `init_app`, the session cookies, and
the signed-in user's loading (with a page's own rows: `read_with_sign_in`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from course.db import get_connection, get_session
from course.overrides import CookieSessions
from course.services.sign_ins import PageQuery, SignedIn, signed_in, signed_in_with

View = TypeVar("View", bound=Callable[..., Any])
#: A page's query and its parameters, for the signed-in user (`read_with_sign_in`).
PageRead = tuple[PageQuery, dict[str, Any]]
_PAGE_QUERY, _PAGE_ROWS = "course_page_query", "course_page_rows"  # their names in `g`

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(cookie_id: str) -> SignedIn | None:
    """The person of a live sign-in: an ended or unknown one is treated as signed out.
    With the rows of the view's own query, when it reads them with the sign-in."""
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    page: Callable[[int], PageRead | None] | None = g.pop(_PAGE_QUERY, None)
    query = page(int(user_id)) if page is not None else None
    if query is None:
        # The session's: a page that does not read with the sign-in goes on to the ORM.
        return signed_in(get_session().connection(), int(user_id), token)
    user, rows = signed_in_with(get_connection(), int(user_id), token, *query)
    setattr(g, _PAGE_ROWS, (*query, rows))
    return user


def read_with_sign_in(page_query: Callable[..., PageRead | None]) -> Callable[[View], View]:
    """Read a view's own rows in the query that checks the sign-in (one query where
    there were two: on PostgreSQL a round trip of every signed-in page).

    `page_query(user_id, **view_args)` gives the view's query of the signed-in user's
    rows (or None when this request has none to read). The view then asks `page_rows`
    for the same query and gets the rows read with the sign-in, or, when Flask-Login
    loaded the user before the view (or from elsewhere), reads them itself. Put it under
    the route, before anything that asks for `current_user`.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def reading(**kwargs: Any) -> Any:
            setattr(g, _PAGE_QUERY, partial(page_query, **kwargs))
            return view(**kwargs)

        return reading  # type: ignore[return-value]

    return decorate


def page_rows(query: PageQuery, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
    """The rows of `query`: read with the sign-in, when this request did, else now."""
    read = g.pop(_PAGE_ROWS, None)
    if read is not None and read[0] is query and read[1] == params:
        rows: Sequence[Sequence[Any]] = read[2]
        return rows
    return get_connection().execute(query, params).all()


@login_manager.unauthorized_handler
def _sign_in_first() -> ResponseReturnValue:
    """Send a signed-out visitor to sign in, then back to the page they were on.

    For a POST (say "Mark as complete" after the session ended) the way back is the page
    the form was on, not the form's action, which cannot be opened with a GET.
    """
    flash(login_manager.login_message, login_manager.login_message_category)
    if request.method == "GET":
        target: str | None = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host
        target = (referrer.path + (f"?{referrer.query}" if referrer.query else "")
                  if same_site else None)
    return redirect(url_for("auth.sign_in", next=target))


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    login_manager.init_app(app)
    csrf.init_app(app)
