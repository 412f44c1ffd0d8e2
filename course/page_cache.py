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

Once a copy has been served, the whole answer is kept too (`Replay`, in front of the app):
a request that cannot be told apart from one already answered with a copy (a GET with no
cookie, no query string and no body, for the same scheme, host and path, whose
Accept-Encoding got the same encoding) gets that answer again, its status, headers and
body as the app produced them, without passing through Flask: no session, no request
hooks, no compression. What the hooks added (security headers, HSTS, Vary) is in the kept
headers, and the request log gets its line as for any request.

Answers are kept by the encoding the app chose, not by the Accept-Encoding header that
asked for it: browsers write a handful of encodings in countless ways, and each way is
only remembered (bounded) as a pointer to the one answer for its encoding. The copies,
the answers and the pointers are declared in course.caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Request, current_app, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME
from werkzeug.http import http_date

from course.caches import AppCaches, app_caches
from course.logs import write_request_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

View = TypeVar("View", bound=Callable[..., Any])
#: Marks, in the WSGI environ, a request answered with a copy (its path, for the log).
SERVED_COPY = "course.served_copy"
#: Where a request may be answered again from: scheme, host, script root, path.
Place = tuple[str, str, str, str]


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
        pages = app_caches(app).pages
        key = (this.script_root, this.path)
        page = pages.get(key)
        if page is None:
            rendered = view(**kwargs)
            if not isinstance(rendered, str):  # a redirect or a status: serve it as it is
                return rendered
            # Kept encoded: the response would otherwise encode the same text every time.
            page = rendered.encode()
            pages.put(key, page)
        this.environ[SERVED_COPY] = this.path
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


def init_app(app: Flask) -> None:
    """Put `Replay` in front of the app: after every other WSGI wrapper but ProxyFix
    (course/deployment.py), which must still run first."""
    app.wsgi_app = Replay(app.wsgi_app, app_caches(app))  # type: ignore[method-assign]


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]  # without Date
    body: bytes
    path: str  # as the request log writes it
    dated: bool  # had a Date header (werkzeug adds one to a compressed answer): a new one


class Replay:
    """WSGI middleware: answers a request again with the copy's stored answer."""

    def __init__(self, wsgi_app: WSGIApplication, caches: AppCaches) -> None:
        self.wsgi_app = wsgi_app
        self.answers = caches.answers
        self.encodings = caches.encodings

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        place = _replay_place(environ)
        if place is None:
            return self.wsgi_app(environ, start_response)
        asked = (*place, environ.get("HTTP_ACCEPT_ENCODING", ""))
        encoding = self.encodings.get(asked)
        answer = None if encoding is None else self.answers.get((*place, encoding))
        if answer is None:
            return self._answer_and_keep(place, asked, environ, start_response)
        started = time.perf_counter()
        headers = [*answer.headers, ("Date", http_date())] if answer.dated else [*answer.headers]
        start_response(answer.status, headers)
        write_request_line("GET", answer.path, 200, started, "-")
        return [answer.body]

    def _answer_and_keep(self, place: Place, asked: tuple[str, str, str, str, str],
                         environ: WSGIEnvironment, start_response: StartResponse
                         ) -> Iterable[bytes]:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def note(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append((status, headers))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, note)
        path = environ.get(SERVED_COPY)
        if path is None or not started:
            return body
        status, headers = started[-1]
        names = {name.lower() for name, _ in headers}
        if status != "200 OK" or "set-cookie" in names:
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        # The encoding the app chose for this Accept-Encoding on this page ("" for none).
        encoding = next((value for name, value in headers
                         if name.lower() == "content-encoding"), "")
        self.encodings.put(asked, encoding)
        self.answers.put((*place, encoding), Answer(
            status, [h for h in headers if h[0].lower() != "date"], data, path,
            "date" in names))
        return [data]


def _replay_place(environ: WSGIEnvironment) -> Place | None:
    """What the copy's answer depends on, for a request that may be replayed; None for
    one that must reach the app (any cookie, query string or body, any method but GET)."""
    if (environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ
            or environ.get("QUERY_STRING") or environ.get("CONTENT_TYPE")
            or environ.get("CONTENT_LENGTH", "0") not in ("", "0")
            or "HTTP_TRANSFER_ENCODING" in environ):
        return None
    # Host and scheme too: an answer checked by the app for one host (a host check, a link
    # built from it) is never given to a request for another.
    return (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""))
