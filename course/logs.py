"""Operational logging through the standard `logging` module.

- `course.request`: one line per request: method, path, status, duration, user id.
- `course.audit`: sign-ins, refused sign-ins, password changes and resets, account
  deletion, reviews, overrides and regrades (each logged where it happens, with
  `logging.getLogger(AUDIT)`).

LOG_LEVEL (default INFO) sets the level of the `course` loggers. When nothing else has
configured logging (the embedded server, gunicorn), lines go to stderr with a timestamp;
an operator's own logging configuration is left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, g, request
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect
from werkzeug.wrappers import Response

from course.services.sign_ins import SignedIn

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

AUDIT = "course.audit"
requests_log = logging.getLogger("course.request")


STARTED = "course.request_started"  # the request's start, in its WSGI environ


def init_app(app: Flask) -> None:
    logger = logging.getLogger("course")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not logging.getLogger().handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(LineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    app.wsgi_app = _clocked(app.wsgi_app)  # type: ignore[method-assign,assignment]
    app.after_request(_log_request)


class LineFormatter(logging.Formatter):
    """logging's Formatter, writing the same timestamps, but working out the date and
    time text once a second instead of for every line: with a line per request, that
    was a fifth of what writing the line cost."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (int(record.created), text)
        msecs = self.default_msec_format
        return msecs % (text, record.msecs) if msecs else text


def _clocked(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Start the request's clock as it enters the app (a before-request hook costs more
    than the WSGI call, and would start later)."""

    def clocked(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[STARTED] = time.perf_counter()
        return wsgi_app(environ, start_response)

    return clocked


def _log_request(response: Response) -> Response:
    if not requests_log.isEnabledFor(logging.INFO):
        return response
    this = request._get_current_object()  # type: ignore[attr-defined]  # one look-up, not one per use
    user_id = _user_id(g.get("_login_user"))  # flask-login's user, if this request loaded one
    write_request_line(this.method, this.path, response.status_code,
                       this.environ.get(STARTED), user_id)
    return response


def write_request_line(method: str, path: str, status: int, started: float | None,
                       user_id: str) -> None:
    """The request log's line for a request that began at `started` (perf_counter)."""
    if not requests_log.isEnabledFor(logging.INFO):
        return
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    # The record is made here rather than by `requests_log.info`, which would look up the
    # calling file and line by walking the stack on every request: a quarter of what a
    # cached page cost the app. The logger's name says where the line comes from.
    requests_log.handle(requests_log.makeRecord(
        requests_log.name, logging.INFO, __file__, 0, "%s %s %s %.1fms user=%s",
        (method, path, status, duration_ms, user_id), None, "write_request_line"))


def _user_id(user: object) -> str:
    """The signed-in user's id, for a model from the identity map, never from the database.

    After a lost database connection the user row is expired; reading `user.id` would
    try to reload it and turn the clean 503 into a traceback in this after-request hook.
    """
    if user is None or isinstance(user, AnonymousUserMixin):
        return "-"  # a visitor (SQLAlchemy's inspect raises and catches to say so)
    if isinstance(user, SignedIn):  # the user loader's: a plain object, never reloaded
        return str(user.id)
    state = inspect(user, raiseerr=False)
    identity = state.identity if state is not None else None
    return str(identity[0]) if identity else "-"
