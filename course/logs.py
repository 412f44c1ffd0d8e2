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

from flask import Flask, g, request
from sqlalchemy import inspect
from werkzeug.wrappers import Response

AUDIT = "course.audit"
requests_log = logging.getLogger("course.request")


def init_app(app: Flask) -> None:
    logger = logging.getLogger("course")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not logging.getLogger().handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    app.before_request(_start_clock)
    app.after_request(_log_request)


def _start_clock() -> None:
    g.request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    user_id = _user_id(g.get("_login_user"))  # flask-login's user, if this request loaded one
    requests_log.info("%s %s %s %.1fms user=%s", request.method, request.path,
                      response.status_code, duration_ms, user_id)
    return response


def _user_id(user: object) -> str:
    """The signed-in user's id from the identity map, never from the database.

    After a lost database connection the user row is expired; reading `user.id` would
    try to reload it and turn the clean 503 into a traceback in this after-request hook.
    """
    state = inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return str(identity[0]) if identity else "-"
