"""Rate limits on the doors an attacker knocks on: sign-in, sign-up, password reset, and
the account page's forms that check the current password.

Flask-Limiter counts per network address and per account (the email typed into the form,
or the signed-in account's), so neither spraying one password over many accounts nor
guessing one account's password from many addresses goes unchecked. A browser the owner
signed in on is counted per device instead of per account (course/device_cookies.py), so
an attacker's failures never lock the owner out. An account's counters are named by a
keyed digest of its address (HMAC-SHA256, key derived from SECRET_KEY), never the
address: Redis holds no email, and cannot be searched by one.

Counters live in Redis when `REDIS_URL` is set (shared by every worker and every app
server) and in each process's memory otherwise (the embedded default). When Redis cannot
be reached, Flask-Limiter counts in memory (per worker, so N workers allow N times the
limit) rather than refuse every sign-in; that is logged as an error at start-up and at
each fall-back, Redis answering again as a warning (`FallbackWatch`), and /health reports
it (`rate_limit_counts`). A refused request gets a 429 page in the site layout with
`Retry-After`. Only Flask-Limiter's public interface is used.

A view asks for a limit with `@rate_limited("RATE_LIMIT_...")`, naming the app-config key
that holds it (so operators can change it and tests can lower it). The mark is applied by
`init_app`, which gives every app its own Limiter: a module-level one would keep the first
app's storage and key prefix for every app built later in the same process.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from course import device_cookies
from course.logs import get_logger
from course.services import email_addresses

View = TypeVar("View", bound=Callable[..., Any])

log = get_logger(__name__)

_UNREACHABLE = "the rate-limit storage (REDIS_URL) cannot be reached"

REFUSAL = ("Too many attempts from this address or for this account in a short time. "
           "Please wait a few minutes and try again.")


@dataclass(frozen=True)
class RateLimit:
    config_key: str
    deduct_when: Callable[[Response], bool] | None
    refusal: str


def rate_limited(config_key: str, *, deduct_when: Callable[[Response], bool] | None = None,
                 refusal: str = REFUSAL) -> Callable[[View], View]:
    """Mark a view for the limit in `app.config[config_key]` (e.g. "10 per hour"), counted
    on POSTs per network address and per account; with `deduct_when`, only the responses
    it accepts count (see `failed`); `refusal` is what the 429 page says."""

    def mark(view: View) -> View:
        view.rate_limit = RateLimit(  # type: ignore[attr-defined]
            config_key, deduct_when, refusal)
        return view

    return mark


def failed(response: Response) -> bool:
    """A refused form is answered with its page again (4xx), a success with a redirect."""
    return response.status_code >= 400


def account_digest(email: str) -> str:
    """The account's name in rate-limit keys and device cookies: a keyed hash of its
    address, so neither holds the address and nobody without SECRET_KEY can test one."""
    key: bytes = current_app.extensions["rate_limit_account_key"]
    spelling = email_addresses.lookup_spelling(email).encode()
    return hmac.new(key, spelling, hashlib.sha256).hexdigest()


def account_key() -> str:
    """Whose counter a request adds to: the account its form names (`email`) or the
    signed-in account, per device when the browser holds that account's device cookie;
    a form with neither (a reset link's new-password form) counts against its address."""
    email = request.form.get("email", "") or (
        current_user.email if current_user.is_authenticated else "")
    if not email:
        return get_remote_address()
    account = account_digest(email)
    device = device_cookies.device_of(account)
    return f"device:{device}" if device else f"account:{account}"


def _not_a_post() -> bool:
    return request.method != "POST"


class FallbackWatch:
    """Logs each change of where a Limiter counts, once, loudly, on the course's logger.

    When Redis fails (in the check, the headers or a deduction) Flask-Limiter counts in
    its in-memory fall-back until a later check finds Redis answering again, and says so
    only as a warning of its own logger. Its public `limiter` property is the strategy in
    use, so counting in memory is that strategy holding other storage than the configured
    `storage`. Noted after each rate-limited view: only those touch the counters (every
    other request is exempt by `_not_a_post` or has no limit), so a change made while the
    headers are written is logged by the next one.
    """

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self._in_memory = False

    def note(self) -> None:
        if not self._limiter.enabled:
            return
        in_memory = self._limiter.limiter.storage is not self._limiter.storage
        if in_memory == self._in_memory:
            return
        self._in_memory = in_memory
        if in_memory:
            log.error("RATE LIMITS NOW COUNT PER WORKER: %s; this worker counts in its "
                      "own memory until Redis answers again", _UNREACHABLE)
        else:
            log.warning("rate limits: Redis answers again; counts are shared once more")

    def around(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """`view`, noting where the counts went once it has answered or been refused."""

        @functools.wraps(view)
        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            finally:
                self.note()

        return watched


def init_app(app: Flask) -> None:
    """Give `app` its Limiter and apply every `rate_limited` mark; call after the
    blueprints are registered."""
    app.extensions["rate_limit_account_key"] = hmac.new(
        app.config["SECRET_KEY"].encode(), b"course rate-limit account key",
        hashlib.sha256).digest()
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    # Flask-Limiter's decorators hold the Limiter weakly: the app must keep it alive.
    app.extensions["course_limiter"] = limiter
    if not counts_shared_as_configured(app):
        log.error("RATE LIMITS COUNT PER WORKER: %s; each worker counts in its own memory "
                  "(N workers allow N times each limit) until Redis answers",
                  _UNREACHABLE)
    # Every limit counts POSTs only: any other request is exempt before Flask-Limiter
    # works out which limits apply, in its app-wide pass and in a limited view alike.
    limiter.request_filter(_not_a_post)
    watch = FallbackWatch(limiter)
    for endpoint, view in list(app.view_functions.items()):
        mark: RateLimit | None = getattr(view, "rate_limit", None)
        if mark is None:
            continue
        config_key, scope = mark.config_key, mark.config_key.lower()

        def limit_value(key: str = config_key) -> str:
            return str(current_app.config[key])

        limited: Any = view
        for key_func, part in ((get_remote_address, "address"), (account_key, "account")):
            limited = limiter.limit(limit_value, key_func=key_func, methods=["POST"],
                                    scope=f"{scope}:{part}", deduct_when=mark.deduct_when,
                                    error_message=mark.refusal)(limited)
        app.view_functions[endpoint] = watch.around(limited)


def counts_shared_as_configured(app: Flask) -> bool:
    """Whether the counters are where the configuration put them: always, for memory
    (no REDIS_URL) or with limits off (RATELIMIT_ENABLED false, no storage at all); for
    Redis, when it answers a ping now."""
    limiter: Limiter = app.extensions["course_limiter"]
    return not limiter.enabled or bool(limiter.storage.check())
