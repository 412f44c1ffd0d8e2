"""Every place the platform changes how a framework works inside, each with the upstream
behaviour it changes and why (the rule: a change that reaches into a framework must save
at least a fifth of a page a user waits for; the commit that kept it gives the figures).

`CookieSessions` (`app.session_interface`) changes Flask's `SecureCookieSessionInterface`:

- Flask builds a new itsdangerous serializer (key derivation settings, signer, salt)
  twice per request, to open the session and to save it: here it is built once per
  secret key and its fallbacks.
- Flask parses the Cookie header even when there is none: here a request without one
  gets an empty session at once.
- Flask checks the signature of the session cookie and decodes it on every request.
  A browser sends the same cookie until the session changes, so what a checked cookie
  holds is remembered (caches.AppCaches.session_cookies), keyed by the whole signed
  cookie, so only those exact bytes get the remembered contents; when it was signed is
  still checked against the session's lifetime on every request. Only sessions of plain
  values are remembered: Flask changes a list or a dict in a session (flashed messages)
  in place, which must not change what the next request gets.
- Flask works out every cookie setting before it finds that an unchanged session has
  nothing to save: here such a session only gets what Flask would have added,
  `Vary: Cookie` when the session was read.

The cookie's format, signature, flags and lifetime are Flask's own.
"""

from __future__ import annotations

import time

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from course.caches import app_caches

_PLAIN = (str, int, float, bool, type(None))


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
            app_caches(app).session_cookies.clear()  # checked with keys no longer in use
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
        cookies = app_caches(app).session_cookies
        checked = cookies.get(cookie)
        if checked is None:
            try:
                data, signed = serializer.loads(cookie, max_age=int(max_age),
                                                return_timestamp=True)
            except BadSignature:  # expired too, as in Flask
                return self.session_class()
            checked = (data, signed.timestamp())
            if all(isinstance(value, _PLAIN) for value in data.values()):
                cookies.put(cookie, checked)
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
