"""Two app servers (separate gunicorn instances of the README's command) on one database
and one Redis behave as one site: a session started on one works on the other, and the
sign-in rate limit counts across both (issue 7)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from email.message import Message
from http.client import HTTPResponse

import pytest

from tests.forms import forms_on
from tests.helpers import PASSWORD, make_user
from tests.servers import production_server

pytestmark = pytest.mark.slow

EXERCISE = "roadmap-or-backlog"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, cookie: str = "", form: list[tuple[str, str]] | None = None
             ) -> tuple[int, dict[str, str], str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={"Cookie": cookie} if cookie
                                     else {})
    try:
        response: HTTPResponse = _opener.open(request, timeout=30)
    except urllib.error.HTTPError as answer:
        return answer.code, _headers(answer.headers), answer.read().decode()
    with response:
        return response.status, _headers(response.headers), response.read().decode()


def _headers(message: Message) -> dict[str, str]:
    """The headers, every Set-Cookie kept (a sign-in sets the session and device cookies)."""
    headers = dict(message)
    if "Set-Cookie" in headers:
        headers["Set-Cookie"] = "\n".join(message.get_all("Set-Cookie") or [])
    return headers


def _session_cookie(headers: dict[str, str]) -> str:
    match = re.search(r"session=([^;]+)", headers.get("Set-Cookie", ""))
    assert match, headers
    return f"session={match.group(1)}"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_two_servers_share_sessions_and_rate_limits(app, tmp_path, database_url, redis_url,
                                                    redis_prefix):
    make_user(app)
    make_user(app, "target@example.com", "Target")
    env = {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": redis_prefix,
           "WEB_CONCURRENCY": "1"}
    with ExitStack() as servers:
        one = servers.enter_context(production_server(tmp_path, database_url, **env))
        two = servers.enter_context(production_server(tmp_path, database_url, **env))

        # Sign in on one...
        status, headers, page = _request(f"{one.base_url}/signin")
        cookie = _session_cookie(headers)
        status, headers, _ = _request(f"{one.base_url}/signin", cookie, [
            ("csrf_token", _csrf(page)), ("email", "learner@example.com"),
            ("password", PASSWORD)])
        assert status == 302, "sign-in on the first server failed"
        cookie = _session_cookie(headers)

        # ...submit an answer on the other...
        status, headers, page = _request(f"{two.base_url}/exercises/{EXERCISE}", cookie)
        assert status == 200 and "Sign out" in page
        if "Set-Cookie" in headers:  # the session now holds this page's CSRF secret
            cookie = _session_cookie(headers)
        form = next(f for f in forms_on(page, f"/exercises/{EXERCISE}")
                    if "submission_token" in f.names)
        answer = list(dict(form.fields).items())  # one choice per item
        status, headers, page = _request(f"{two.base_url}/exercises/{EXERCISE}", cookie,
                                         answer)
        assert status == 303, ("submitting on the second server failed", status, answer,
                               re.findall(r'class="lead">[^<]*|<li>[^<]*', page))
        attempt_path = urllib.parse.urlsplit(headers["Location"]).path

        # ...and read it back on the first.
        status, _, page = _request(f"{one.base_url}{attempt_path}", cookie)
        assert status == 200 and "Attempt 1" in page

        # Wrong passwords alternate between the servers; the 51st is refused on both.
        _, headers, page = _request(f"{one.base_url}/signin")
        anonymous, token = _session_cookie(headers), _csrf(page)
        wrong = [("csrf_token", token), ("email", "target@example.com"),
                 ("password", "not the password at all")]
        for n in range(50):
            server = (one, two)[n % 2]
            status, _, _ = _request(f"{server.base_url}/signin", anonymous, wrong)
            assert status == 400, (n, status)
        for server in (one, two):
            status, headers, page = _request(f"{server.base_url}/signin", anonymous, wrong)
            assert status == 429 and int(headers["Retry-After"]) > 0
            assert "Too many attempts" in page
