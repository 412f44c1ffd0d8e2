"""Flask's signed-cookie sessions, without the work a request does not need.

Flask builds a new itsdangerous serializer (key derivation settings, signer, salt) twice
per request, once to open the session and once to save it, parses the Cookie header even
when there is none, and works out every cookie setting before it finds that an empty
session has nothing to save. A visitor without cookies (most anonymous page views) paid
for all of it. Here the serializer is built once per secret key, a request without a
Cookie header gets an empty session at once, and an empty, unmodified session is saved by
doing only what Flask would have done: `Vary: Cookie` when the session was read. The
cookie's format, signature, flags and lifetime are Flask's own.

A browser sends the same session cookie with every request until the session changes, and
checking its signature and decoding it cost more than loading the signed-in user. So each
worker remembers what a cookie it has checked holds (keyed by the whole signed cookie,
so only those exact bytes get the remembered contents) and when it was signed, which is
still checked against the session's lifetime on every request. Only sessions of plain
values are remembered: a list or a dict in a session (flashed messages) is changed in
place by Flask, and must not change what the next request gets.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

#: How many checked cookies each worker remembers before it starts again from none.
COOKIES_KEPT = 1024
_PLAIN = (str, int, float, bool, type(None))


class CookieSessions(SecureCookieSessionInterface):
    """`app.session_interface` for every app `create_app` builds."""

    def __init__(self) -> None:
        self._keys: tuple[object, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None
        # cookie -> (its contents, when it was signed, as a Unix time)
        self._checked: dict[str, tuple[dict[str, Any], float]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, rebuilt only when the secret key or its fallbacks change
        (tests and key rotation change them; requests never do)."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
            self._checked = {}  # checked with keys no longer in use
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's `open_session`, remembering the contents of checked cookies."""
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()  # no cookie at all: no need to parse the header
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = app.permanent_session_lifetime.total_seconds()
        checked = self._checked.get(cookie)
        if checked is None:
            try:
                data, signed = serializer.loads(cookie, max_age=int(max_age),
                                                return_timestamp=True)
            except BadSignature:  # expired too, as in Flask
                return self.session_class()
            checked = (data, signed.timestamp())
            if all(isinstance(value, _PLAIN) for value in data.values()):
                if len(self._checked) >= COOKIES_KEPT:
                    self._checked.clear()
                self._checked[cookie] = checked
        data, signed_at = checked
        if time.time() - signed_at > max_age:
            return self.session_class()
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's `save_session`, which for a session that needs no new cookie (an empty
        one, or one neither changed nor due for a refresh: most signed-in page views) only
        adds `Vary: Cookie`, without working out every cookie setting first."""
        if not session.modified and not (session and self.should_set_cookie(app, session)):
            if session.accessed:
                # As `response.vary.add("Cookie")`, without parsing the header into a
                # HeaderSet and writing it back (Flask-Compress's Vary is there already).
                vary = response.headers.get("Vary")
                if not vary:
                    response.headers["Vary"] = "Cookie"
                elif "cookie" not in {v.strip().lower() for v in vary.split(",")}:
                    response.headers["Vary"] = f"{vary}, Cookie"
            return
        super().save_session(app, session, response)
