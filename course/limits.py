"""Rate limits on the doors an attacker knocks on: sign-in, sign-up, password reset.

Flask-Limiter counts per network address and per account (the email typed into the form),
so neither spraying one password over many accounts nor guessing one account's password
from many addresses goes unchecked. Counters live in Redis when `REDIS_URL` is set (shared
by every worker and every app server) and in each process's memory otherwise (the embedded
default). A refused request gets a 429 page in the site layout with `Retry-After`.

A view asks for a limit with `@rate_limited("RATE_LIMIT_...")`, naming the app-config key
that holds it (so operators can change it and tests can lower it). The mark is applied by
`init_app`, which gives every app its own Limiter: a module-level one would keep the first
app's storage and key prefix for every app built later in the same process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from course.services import email_addresses

View = TypeVar("View", bound=Callable[..., Any])

REFUSAL = ("Too many attempts from this address or for this account in a short time. "
           "Please wait a few minutes and try again.")


@dataclass(frozen=True)
class RateLimit:
    config_key: str
    deduct_when: Callable[[Response], bool] | None


def rate_limited(config_key: str, *, deduct_when: Callable[[Response], bool] | None = None
                 ) -> Callable[[View], View]:
    """Mark a view for the limit in `app.config[config_key]` (e.g. "10 per hour"), counted
    on POSTs per network address and per account; with `deduct_when`, only the responses
    it accepts count (see `failed`)."""

    def mark(view: View) -> View:
        view.rate_limit = RateLimit(config_key, deduct_when)  # type: ignore[attr-defined]
        return view

    return mark


def failed(response: Response) -> bool:
    """A refused form is answered with its page again (4xx), a success with a redirect."""
    return response.status_code >= 400


def account_key() -> str:
    """The account a form names (its `email` field, normalised); a form without one (a
    reset link's new-password form) counts against its address instead."""
    email = request.form.get("email", "")
    return email_addresses.lookup_spelling(email) if email else get_remote_address()


def _not_a_post() -> bool:
    return request.method != "POST"


class PostLimiter(Limiter):
    """A Limiter whose before-request pass skips anything but a POST.

    Every limit here is a view's own (checked when the decorated view runs) and counts
    POSTs only, so the app-wide pass finds nothing to count on a page view; Flask-Limiter
    still worked out the view's name, exemptions and an empty list of limits first, on
    every page (about a tenth of a cached lesson's time in the process).
    """

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        if in_middleware and request.method != "POST":
            return
        super()._check_request_limit(callable_name, in_middleware)


def init_app(app: Flask) -> None:
    """Give `app` its Limiter and apply every `rate_limited` mark; call after the
    blueprints are registered."""
    limiter = PostLimiter(key_func=get_remote_address, default_limits=[], app=app)
    # Flask-Limiter's decorators hold the Limiter weakly: the app must keep it alive.
    app.extensions["course_limiter"] = limiter
    # Every limit counts POSTs only: a rate-limited form's page (a GET of the same view)
    # skips Flask-Limiter's resolution of which limits apply.
    limiter.request_filter(_not_a_post)
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
                                    error_message=REFUSAL)(limited)
        app.view_functions[endpoint] = limited
