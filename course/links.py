"""Absolute links for mail: always on the site's configured address, never on a request's.

A mail is read away from the request that caused it, so its links must point at the
site and not at whatever Host header that request carried: a forged Host on "forgot my
password" would otherwise mail the victim a live reset token on the attacker's site.
Every emailed link (reset, feedback released, the instructors' daily summary) is built
by `public_url`, from `PUBLIC_URL` alone, in a request or not.

In production `PUBLIC_URL` is required and must be https: `init_app` refuses to start
without it. Elsewhere it defaults to the development server's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

#: Where `flask run` serves by default: the links of a laptop's outbox open there.
DEVELOPMENT_URL = "http://127.0.0.1:5000"


class PublicUrlError(ValueError):
    """PUBLIC_URL is missing (in production) or is not a site's address."""


@dataclass(frozen=True)
class PublicSite:
    scheme: str
    host: str  # with the port, if any
    path: str  # the prefix the site is served under ("" at the root)


def public_site(public_url: str | None, production: bool) -> PublicSite:
    """Check PUBLIC_URL against where the app runs; raise PublicUrlError saying what to
    set when it will not do."""
    if not public_url:
        if production:
            raise PublicUrlError(
                "PUBLIC_URL is not set: in production (COURSE_ENV=production) set it to "
                "the site's public https address, e.g. PUBLIC_URL=https://course.example.org"
                "; links in mail are built on it, never on a request's Host header.")
        public_url = DEVELOPMENT_URL
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise PublicUrlError(f"PUBLIC_URL={public_url!r} is not a site's address; set it "
                             "like https://course.example.org")
    if production and parts.scheme != "https":
        raise PublicUrlError(f"PUBLIC_URL={public_url!r} is not https: in production links "
                             "in mail must be https, as the site is served (HSTS).")
    return PublicSite(parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"))


def init_app(app: Flask) -> None:
    """Check PUBLIC_URL once, at start-up (a production server without it must not start)."""
    app.extensions["public_site"] = public_site(app.config.get("PUBLIC_URL"),
                                                app.config["PRODUCTION"])


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute link to `endpoint` on the public site (needs an app context only)."""
    site: PublicSite = current_app.extensions["public_site"]
    adapter = current_app.url_map.bind(site.host, script_name=site.path or "/",
                                       url_scheme=site.scheme)
    return adapter.build(endpoint, values, force_external=True)
