"""Error pages in the site's layout; never a stack trace in front of a user."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is no page at this address.",
    405: "That action is not allowed here.",
    409: "Someone else changed this first.",
    413: "What you sent is too large.",
    429: "Too many attempts in a short time. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. Please try again.",
    503: "The course is briefly unavailable. Please try again in a moment.",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)


def _render(code: int, description: str | None = None) -> ResponseReturnValue:
    message = description or MESSAGES.get(code, "Something went wrong.")
    return render_template("errors/error.html", code=code, message=message), code


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _render(400, "This form has expired or did not come from this site. "
                        "Reload the page and try again.")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    """Also renders unhandled exceptions: Flask logs them and hands us a plain 500."""
    code = error.code or 500
    # Werkzeug's default descriptions are generic; ours read better unless a view set one.
    default = type(error).description
    description = error.description if error.description != default else None
    return _render(code, description)


def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
    """The database dropped the connection or refused it (a restart, a failover, an
    administrator ending sessions): a clear 503 and one log line, not a traceback. The
    pool has already discarded the broken connection and the ones opened before it, and
    hands out none that the server has closed (course.db), so the next request gets a
    working one without restarting the app."""
    current_app.logger.warning("database unavailable: %s",
                               str(error.orig or error).splitlines()[0])
    # Its transaction died with the connection: drop the session without the rollback a
    # close would try; the layout below opens a fresh one.
    session = g.pop("db_session", None)
    if session is not None:
        session.invalidate()
    headers = {"Retry-After": "5"}
    try:
        page = render_template("errors/error.html", code=503, message=MESSAGES[503])
    except SQLAlchemyError:  # the layout reads the database too, and it is still away
        return MESSAGES[503], 503, {**headers, "Content-Type": "text/plain; charset=utf-8"}
    return page, 503, headers
