"""Operational logging through the standard `logging` module.

- `course.request`: one line per request: method, path, status, duration, user id. A
  route with a secret in its URL (an argument named in SECRET_URL_ARGUMENTS: the reset
  link's token) is logged by its rule, `/reset-password/<token>`, never by its path.
- `course.audit`: sign-ins, refused sign-ins, password changes and resets, account
  deletion, reviews, overrides and regrades (each logged where it happens, with
  `get_logger(AUDIT)`).

LOG_LEVEL (default INFO) sets the level of the `course` loggers. When nothing else has
configured logging (the embedded server, gunicorn), lines go to stderr with a timestamp;
an operator's own logging configuration is left alone.

Nobody can forge a line: every logger in course/ comes from `get_logger`, whose filter
escapes each value of a record (`escaped`) before any handler sees it, so a CR, LF or
ANSI escape a visitor puts in a path, header, email or name is written as `\\r`, `\\n`,
`\\x1b`, whatever handler and format an operator configures. The default handler's
LineFormatter also indents every line of a traceback after the first, so one record
starts exactly one line. JSON lines would do the same at a cost in every request's line
and in the format operators read; escaping keeps the format.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from flask import Flask, g, request
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect
from werkzeug.wrappers import Response

from course.services.sign_ins import SignedIn

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

AUDIT = "course.audit"

#: The longest value a record carries: the rest is cut, and a marker says how much.
MAX_VALUE = 500
#: URL arguments that are secrets: a route with one is logged by its rule, not its path.
SECRET_URL_ARGUMENTS = frozenset({"token"})


def escaped(value: object) -> str:
    """`value`'s text as it can be logged: on one line, unambiguous, and short.

    Every unprintable character (C0 and C1 controls, so CR, LF, tab and ESC; DEL;
    Unicode's line separators and bidirectional overrides) is written as Python writes it
    in a string literal (`\\n`, `\\x1b`, `\\u2028`) and a backslash is doubled, so text
    a visitor typed cannot pass for an escape. Printable text, accents included, is kept.
    """
    text = value if isinstance(value, str) else str(value)
    cut = len(text) - MAX_VALUE
    if cut <= 0:
        return _characters_escaped(text)
    return f"{_characters_escaped(text[:MAX_VALUE])}...[{cut} more characters]"


def _characters_escaped(text: str, backslash: bool = True) -> str:
    """`text` with its unprintable characters (and backslashes, unless told not to)
    written as in a Python string literal."""
    if text.isprintable() and not (backslash and "\\" in text):
        return text
    return "".join(c if c.isprintable() and not (backslash and c == "\\")
                   else ascii(c)[1:-1] for c in text)


class EscapedValues(logging.Filter):
    """Escapes a record's message template and values where it is made, before any
    handler (the operator's, pytest's) formats it. Numbers stay numbers, for `%d` and
    `%.1f`; everything else becomes its escaped text, so a value is logged with `%s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):  # the code's template, or text made with a value
            record.msg = _characters_escaped(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple([v if isinstance(v, int | float) else escaped(v) for v in args])
        elif isinstance(args, Mapping):
            record.args = {k: v if isinstance(v, int | float) else escaped(v)
                           for k, v in args.items()}
        return True


_ESCAPED_VALUES = EscapedValues()


def get_logger(name: str) -> logging.Logger:
    """The logger `name`, escaping its records' values. Every logger in course/ comes
    from here: a logger's filter sees only the records made on that logger."""
    logger = logging.getLogger(name)
    if _ESCAPED_VALUES not in logger.filters:
        logger.addFilter(_ESCAPED_VALUES)
    return logger


requests_log = get_logger("course.request")


STARTED = "course.request_started"  # the request's start, in its WSGI environ


def init_app(app: Flask) -> None:
    logger = get_logger("course")  # also Flask's `app.logger`
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

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line, then any traceback or stack, each of its lines escaped
        and indented: an exception's message is a caller's text, and none of its lines
        may start where a record does."""
        text = super().format(record)
        if "\n" not in text:
            return text
        first, *rest = text.split("\n")
        return "\n    ".join([first, *(_characters_escaped(line, backslash=False)
                                        for line in rest)])


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
    rule = this.url_rule
    path = rule.rule if rule is not None and rule.arguments & SECRET_URL_ARGUMENTS else this.path
    write_request_line(this.method, path, response.status_code,
                       this.environ.get(STARTED), user_id)
    return response


def write_request_line(method: str, path: str, status: int, started: float | None,
                       user_id: str) -> None:
    """The request log's line for a request that began at `started` (perf_counter); the
    logger's filter escapes its method and path, the values a visitor chooses."""
    if not requests_log.isEnabledFor(logging.INFO):
        return
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    # The record is made here rather than by `requests_log.info`, which would look up the
    # calling file and line by walking the stack on every request, cached pages included.
    # The logger's name says where the line comes from.
    requests_log.handle(requests_log.makeRecord(
        requests_log.name, logging.INFO, __file__, 0, "%s %s %s %.1fms user=%s",
        (method, path, status, duration_ms, user_id), None,
        "write_request_line"))


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
