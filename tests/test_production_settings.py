"""Production settings (COURSE_ENV=production, TRUSTED_PROXIES), cache rules for private
pages, and the request and audit log lines (issue 7)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from course import device_cookies
from course.db import get_session
from course.instruct.notify import queue_feedback_mail
from course.links import PublicUrlError, public_url
from course.logs import LineFormatter
from course.models import QueuedMail
from course.services.release import Released
from tests.helpers import _CSRF as CSRF
from tests.helpers import PASSWORD, csrf_token, make_user
from tests.review_factories import VISION, VISION_ANSWER, submit


def _sign_in(client, email="learner@example.com", password=PASSWORD, **kw):
    return client.post("/signin", data={"csrf_token": csrf_token(client), "email": email,
                                        "password": password}, **kw)


@pytest.fixture
def production_app(make_app, monkeypatch):
    monkeypatch.setenv("COURSE_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://course.example")
    return make_app()


@pytest.mark.parametrize(("setting", "complaint"), [
    (None, "PUBLIC_URL is not set"),
    ("", "PUBLIC_URL is not set"),
    ("http://course.example", "is not https"),
    ("course.example", "is not a site's address"),
    ("https://course.example/?next=/x", "is not a site's address"),
])
def test_production_refuses_to_start_without_an_https_public_url(
        make_app, monkeypatch, setting, complaint):
    """Issue 20 finding 1: the production command started without PUBLIC_URL, and mail
    links then named whatever Host a request carried."""
    monkeypatch.setenv("COURSE_ENV", "production")
    if setting is None:
        monkeypatch.delenv("PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("PUBLIC_URL", setting)
    with pytest.raises(PublicUrlError, match=complaint):
        make_app()


def test_mail_links_keep_public_urls_port_and_path(make_app):
    """A site served under a path or on another port gets its links there, in a request
    to any host or in none (the CLI's daily summary)."""
    app = make_app(PUBLIC_URL="https://Course.Example.org:8443/course/")
    with app.app_context():
        assert (public_url("learn.attempt", attempt_id=3)
                == "https://course.example.org:8443/course/attempts/3")
    with app.test_request_context("/", base_url="http://evil.example/other"):
        assert public_url("auth.account") == "https://course.example.org:8443/course/account"


def test_production_mail_links_are_on_public_url_whatever_the_host(production_app):
    """Feedback mail queued during a request with a forged Host links to PUBLIC_URL."""
    learner = make_user(production_app, "ann@example.com", "Ann")
    with production_app.test_request_context("/", base_url="https://evil.example"):
        session = get_session()
        queue_feedback_mail(session, [Released(7, learner.id, "product-vision", 1)])
        [body] = session.scalars(select(QueuedMail.body)).all()
        session.rollback()
    assert "https://course.example/attempts/7" in body
    assert "https://course.example/account" in body
    assert "evil.example" not in body


def test_production_cookies_are_secure_and_hsts_is_sent(production_app):
    make_user(production_app)
    client = production_app.test_client()
    site = "https://course.example"
    page = client.get("/signin", base_url=site)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    token = CSRF.search(page.get_data(as_text=True))
    response = client.post("/signin", base_url=site, headers={"Referer": f"{site}/signin"},
                           data={"csrf_token": token.group(1) or token.group(2),
                                 "email": "learner@example.com", "password": PASSWORD})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.partition("=")[0] for c in cookies} == {"session", device_cookies.COOKIE}
    for cookie in cookies:
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_serves_plain_http_without_hsts(app, client):
    make_user(app)
    assert "Strict-Transport-Security" not in client.get("/").headers
    cookies = _sign_in(client).headers.getlist("Set-Cookie")
    assert len(cookies) == 2 and not [c for c in cookies if "Secure" in c]


def test_csp_forbids_plugins(client):
    assert "object-src 'none'" in client.get("/").headers["Content-Security-Policy"]


def test_signed_in_pages_and_downloads_are_never_stored(app, auth, client):
    anonymous = client.get("/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    auth.instructor()
    for url in ["/", "/progress", "/lessons/product-vision", "/instructor/",
                "/instructor/gradebook", "/instructor/submissions", "/account"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    download = client.get("/instructor/gradebook.csv")
    assert download.headers["Cache-Control"] == "no-store"
    static = client.get("/static/style.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def _addresses(caplog) -> list[str]:
    return [r.getMessage().rsplit("address=", 1)[1] for r in caplog.records
            if r.name == "course.audit" and "address=" in r.getMessage()]


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(app, client, caplog):
    make_user(app)
    caplog.set_level(logging.INFO, logger="course")
    _sign_in(client, headers={"X-Forwarded-For": "203.0.113.9"})
    assert _addresses(caplog) == ["127.0.0.1"]


def test_a_trusted_proxy_supplies_the_client_address(make_app, monkeypatch, caplog):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    app = make_app()
    make_user(app)
    caplog.set_level(logging.INFO, logger="course")
    _sign_in(app.test_client(), headers={"X-Forwarded-For": "203.0.113.9"})
    assert _addresses(caplog) == ["203.0.113.9"]


def test_a_spoofed_forwarded_for_does_not_escape_the_rate_limit(app, client):
    token = csrf_token(client)
    for n in range(50):
        client.post("/signin", data={"csrf_token": token, "email": f"u{n}@example.com",
                                     "password": "wrong password"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"})
    refused = client.post("/signin", data={"csrf_token": token, "email": "z@example.com",
                                           "password": "wrong password"},
                          headers={"X-Forwarded-For": "198.51.100.200"})
    assert refused.status_code == 429


def test_one_request_line_per_request_with_the_user(app, auth, client, caplog):
    caplog.set_level(logging.INFO, logger="course")
    client.get("/lessons/product-vision")
    user = auth.learner()
    caplog.clear()
    client.get("/progress")
    client.get("/no-such-page")
    lines = [r.getMessage() for r in caplog.records if r.name == "course.request"]
    assert len(lines) == 2
    method, path, status, duration, who = lines[0].split()
    assert (method, path, status, who) == ("GET", "/progress", "200", f"user={user.id}")
    assert duration.endswith("ms") and float(duration[:-2]) >= 0
    assert lines[1].startswith("GET /no-such-page 404 ")


def test_log_level_is_configurable(make_app, monkeypatch, caplog):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    app = make_app()
    app.test_client().get("/")
    assert not [r for r in caplog.records if r.name == "course.request"]
    assert logging.getLogger("course").level == logging.WARNING


def test_audit_lines_for_sign_ins_reviews_overrides_and_regrades(app, auth, client, caplog):
    caplog.set_level(logging.INFO, logger="course.audit")
    learner = make_user(app)
    _sign_in(client, password="wrong password")
    _sign_in(client)
    attempt_id = submit(app, learner.id, VISION, VISION_ANSWER)
    client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    teacher = auth.instructor()
    page = f"/instructor/submissions/{attempt_id}"
    response = client.post(page, data={
        "csrf_token": csrf_token(client, page), "revision": "1",
        "rubric-vision-short-aspirational": "2", "rubric-strategy-how-who-value": "2",
        "rubric-choices-not-features": "1", "rubric-vision-strategy-distinct": "1",
        "feedback": "Good", "override": "90", "reason": "generous"})
    assert response.status_code == 303
    client.post("/instructor/exercises/roadmap-or-backlog/regrade", data={
        "csrf_token": csrf_token(client, "/instructor/submissions")})
    audit = [r.getMessage() for r in caplog.records if r.name == "course.audit"]
    assert any(m.startswith("sign-in refused email=learner@example.com ") for m in audit)
    assert f"signed in user={learner.id} address=127.0.0.1" in audit
    assert any(m.startswith(f"review saved attempt={attempt_id} by={teacher.id} override=0.9")
               for m in audit), audit
    assert any(m.startswith(f"regrade exercise=roadmap-or-backlog by={teacher.id}")
               for m in audit)


def test_a_view_may_set_its_own_security_header(make_app):
    """Security headers are added where a view has not set its own (course/site.py)."""
    app = make_app()
    app.add_url_rule("/framed", "framed", lambda: ("ok", {"Referrer-Policy": "no-referrer"}))
    response = app.test_client().get("/framed")
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_log_lines_carry_the_same_timestamps_as_loggings_own_formatter():
    """course.logs.LineFormatter keeps the date text for a second: never a stale one."""
    fmt = "%(asctime)s %(levelname)s %(name)s %(message)s"
    ours, standard = LineFormatter(fmt), logging.Formatter(fmt)
    record = logging.LogRecord("course.request", logging.INFO, __file__, 1,
                               "GET / 200 %.1fms user=-", (0.5,), None)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.25, 1_700_003_600.5):
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == standard.format(record)
        assert ours.formatTime(record, "%Y") == standard.formatTime(record, "%Y")
