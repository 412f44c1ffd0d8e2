"""Device cookies: the browsers an account's owner has signed in on, so a per-account rate
limit slows a password guesser without locking the owner out.

The scheme is OWASP's "Slow Down Online Guessing Attacks with Device Cookies" (cited by
its authentication cheat sheet). A per-account limit counted for everybody lets anyone
lock an account by failing on purpose: 50 wrong passwords from one address refused the
owner's right one from another for 15 minutes. Other answers weigh worse here: an
exponential delay holds a worker per delayed request (an attacker's cheap requests
would tie up the site), and a CAPTCHA needs a third party. So:

- A successful sign-in, sign-up or password reset gives the browser a signed cookie
  naming the account (by its keyed digest, course/limits.py, never the address) and a
  random nonce, for `LIFETIME`.
- On the account's doors (sign-in, "forgot my password", the account page's password
  checks) a request carrying a valid cookie for that account is counted per device
  (its nonce) instead of per account: the owner's browser never shares a counter with
  an attacker's, and a stolen cookie is still limited on its own, as is every address.
- Anyone else (an attacker, the owner on a new browser) shares the account's counter.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "course_device"
#: Renewed at each sign-in, so a browser in regular use stays trusted.
LIFETIME = timedelta(days=30)
_SALT = "device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def give(response: Response, account: str) -> Response:
    """Mark this browser as one `account` (a digest) signed in on."""
    value = _serializer().dumps([account, secrets.token_urlsafe(16)])
    response.set_cookie(COOKIE, value, max_age=int(LIFETIME.total_seconds()), httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
    return response


def device_of(account: str) -> str | None:
    """The nonce of this request's device cookie when it is valid and names `account`."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        named, nonce = _serializer().loads(value, max_age=int(LIFETIME.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    if named != account or not isinstance(nonce, str):
        return None
    return nonce
