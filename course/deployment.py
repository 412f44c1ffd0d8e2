"""What changes when the site faces the internet, decided by configuration only.

- `PRODUCTION` (COURSE_ENV=production): HSTS on every response; the cookie flags
  (Secure) are set in course/config.py.
- `TRUSTED_PROXIES` = n: the n reverse proxies in front are believed about the client's
  address, scheme and host (werkzeug's ProxyFix); with 0, X-Forwarded-* headers are
  ignored, so nobody can pick the address a rate limit counts against.
- Always: a page shown to a signed-in person, and any download, is `no-store`, so a
  shared computer's back button or a proxy never shows it to the next person.
"""

from __future__ import annotations

from flask import Flask, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from course.site import add_missing_headers

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["PRODUCTION"]:
        app.after_request(_strict_transport)
    app.after_request(_private_pages_not_stored)


def _strict_transport(response: Response) -> Response:
    add_missing_headers(response, (("Strict-Transport-Security", HSTS),))
    return response


def _private_pages_not_stored(response: Response) -> Response:
    signed_in = "_user_id" in session  # flask-login's mark; reading it costs no query
    if (signed_in and request.endpoint != "static") or _is_download(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def _is_download(response: Response) -> bool:
    # A loop rather than headers.get: werkzeug answers a missing header (every page) by
    # raising and catching a BadRequestKeyError, which costs more than the whole loop.
    return any(name.lower() == "content-disposition" and "attachment" in value
               for name, value in response.headers)
