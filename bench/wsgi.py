"""WSGI entry for bench/learner_pages.py only: the course app, plus a hello-world route.

    gunicorn --preload -w 2 bench.wsgi:app

`/__hello` is answered by a tiny separate Flask app mounted with werkzeug's
DispatcherMiddleware, so the same gunicorn workers serve the baseline and the course
pages and only their ratio is compared. The application never imports this module.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from course import create_app

hello = Flask("bench_hello")


@hello.get("/", strict_slashes=False)
def say_hello() -> str:
    return "hello"


course_app = create_app()
app = DispatcherMiddleware(course_app, {"/__hello": hello})
