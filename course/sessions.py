"""Flask's signed-cookie sessions, without the work a request does not need.

Flask builds a new itsdangerous serializer (key derivation settings, signer, salt) twice
per request, once to open the session and once to save it, parses the Cookie header even
when there is none, and works out every cookie setting before it finds that an empty
session has nothing to save. A visitor without cookies (most anonymous page views) paid
for all of it. Here the serializer is built once per secret key, a request without a
Cookie header gets an empty session at once, and an empty, unmodified session is saved by
doing only what Flask would have done: `Vary: Cookie` when the session was read. The
cookie's format, signature, flags and lifetime are Flask's own.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    """`app.session_interface` for every app `create_app` builds."""

    def __init__(self) -> None:
        self._keys: tuple[object, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, rebuilt only when the secret key or its fallbacks change
        (tests and key rotation change them; requests never do)."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()  # no cookie at all: no need to parse the header
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
