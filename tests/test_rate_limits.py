"""Defect 4 of issue 7: sign-in and sign-up are rate limited per address and per account,
with a 429 page in the layout and Retry-After; Redis shares the counts between app servers.
Defect 5: refusing an unknown email costs the same password hash as a known one."""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import socket
import threading
import time
import urllib.parse
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import redis

from course import device_cookies
from tests.helpers import PASSWORD, AuthActions, csrf_token, make_user

WRONG = "not the password at all"
TOO_MANY_LINKS = "the links already sent are in its mailbox"


def _sign_in(client, token, email="learner@example.com", password=WRONG, address=None):
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post("/signin", data={"csrf_token": token, "email": email,
                                        "password": password}, environ_base=environ)


def _assert_refused(response, window=15 * 60, says="Too many attempts"):
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= window
    page = response.get_data(as_text=True)
    assert 'class="site-header"' in page  # the site's layout, not a bare error
    assert says in page


def test_51st_wrong_password_for_one_account_is_refused(app, client):
    make_user(app)
    token = csrf_token(client)
    statuses = [_sign_in(client, token).status_code for _ in range(50)]
    assert statuses == [400] * 50
    _assert_refused(_sign_in(client, token))
    # The right password is refused too until the window passes: that is the point.
    assert _sign_in(client, token, password=PASSWORD).status_code == 429


def test_the_account_limit_holds_whatever_address_guesses(app, client):
    make_user(app)
    token = csrf_token(client)
    for n in range(50):
        assert _sign_in(client, token, address=f"10.0.{n}.1").status_code == 400
    _assert_refused(_sign_in(client, token, address="10.9.9.9"))
    # Another account from a fresh address is not affected.
    make_user(app, "other@example.com", "Other")
    assert _sign_in(client, token, "other@example.com", PASSWORD,
                    address="10.9.9.9").status_code == 302


def test_the_address_limit_holds_whatever_accounts_it_sprays(app, client):
    token = csrf_token(client)
    for n in range(50):
        assert _sign_in(client, token, f"user{n}@example.com").status_code == 400
    _assert_refused(_sign_in(client, token, "someone-new@example.com"))
    assert _sign_in(client, token, "someone-new@example.com",
                    address="192.0.2.7").status_code == 400


def test_successful_sign_ins_are_not_counted(app, client):
    make_user(app)
    token = csrf_token(client)
    for _ in range(49):
        assert _sign_in(client, token).status_code == 400
    assert _sign_in(client, token, password=PASSWORD).status_code == 302
    client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    assert _sign_in(client, token).status_code == 400  # the 50th failure, 51st request
    _assert_refused(_sign_in(client, token))


def test_sign_up_is_limited_per_address(app, client):
    token = csrf_token(client, "/signup")
    for n in range(20):
        response = client.post("/signup", data={
            "csrf_token": token, "email": f"new{n}@example.com", "display_name": "New",
            "password": PASSWORD, "confirm": PASSWORD})
        assert response.status_code == 302
        client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
        token = csrf_token(client, "/signup")
    refused = client.post("/signup", data={
        "csrf_token": token, "email": "one-more@example.com", "display_name": "New",
        "password": PASSWORD, "confirm": PASSWORD})
    _assert_refused(refused, window=3600)


def test_redis_counts_are_shared_between_app_servers(make_app, redis_url, redis_prefix):
    """Two apps (as two servers would) on one Redis: failures on either count together."""
    settings = {"RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = make_app(**settings), make_app(**settings)
    make_user(first)
    clients = [first.test_client(), second.test_client()]
    tokens = [csrf_token(c) for c in clients]
    for n in range(50):
        assert _sign_in(clients[n % 2], tokens[n % 2]).status_code == 400
    _assert_refused(_sign_in(clients[0], tokens[0]))
    _assert_refused(_sign_in(clients[1], tokens[1]))
    counters = redis.Redis.from_url(redis_url)
    try:
        assert list(counters.scan_iter(match=f"*{redis_prefix}*")), "nothing in Redis"
    finally:
        counters.close()


@pytest.mark.parametrize("email", ["learner@example.com", "nobody@example.com"])
def test_a_refusal_costs_one_password_hash_whether_or_not_the_account_exists(
        app, client, monkeypatch, email):
    import course.models.user as user_module

    make_user(app)
    hashed = []
    real = user_module.check_password_hash
    monkeypatch.setattr(user_module, "check_password_hash",
                        lambda stored, given: hashed.append(stored) or real(stored, given))
    assert _sign_in(client, csrf_token(client), email).status_code == 400
    assert len(hashed) == 1
    with app.app_context():
        from course.db import get_session
        from course.services.accounts import find_by_email
        real_hash = find_by_email(get_session(), "learner@example.com").password_hash
    # Same algorithm and work factor as a stored hash: same cost.
    assert hashed[0].rsplit("$", 2)[0] == real_hash.rsplit("$", 2)[0]


def test_page_views_of_a_limited_form_are_not_counted(app, client):
    """Limits count POSTs only: any other request is exempt by the Limiter's request filter
    (course/limits.py), and a form's page never carries the limit's headers."""
    make_user(app)
    for _ in range(60):
        page = client.get("/signin")
        assert page.status_code == 200
        assert "X-RateLimit-Limit" not in page.headers
    refused_password = _sign_in(client, csrf_token(client))
    assert refused_password.status_code == 400
    assert refused_password.headers["X-RateLimit-Remaining"] == "49"


# --- issue 20: no lockout of the owner, the account forms, keys without emails, Redis down


def _owner_browser(app, address="192.0.2.10"):
    """The owner's browser: signed in once (so it holds the device cookie), signed out."""
    owner = app.test_client()
    assert _sign_in(owner, csrf_token(owner), password=PASSWORD,
                    address=address).status_code == 302
    owner.post("/signout", data={"csrf_token": csrf_token(owner, "/")})
    assert owner.get_cookie(device_cookies.COOKIE) is not None
    return owner


def test_an_attacker_is_slowed_but_the_owner_still_signs_in(app):
    """Issue 20 finding 2: 50 wrong passwords for an account from one address refused the
    owner's right password from another address for 15 minutes. Now the owner's browser
    (holding the device cookie of an earlier sign-in) has a counter of its own."""
    make_user(app)
    owner = _owner_browser(app)
    attacker = app.test_client()
    token = csrf_token(attacker)
    for n in range(50):
        assert _sign_in(attacker, token, address=f"203.0.113.{n}").status_code == 400
    _assert_refused(_sign_in(attacker, token, address="203.0.113.99"))
    # The right password does not help a browser without the device cookie...
    assert _sign_in(attacker, token, password=PASSWORD,
                    address="203.0.113.98").status_code == 429
    # ...but the owner's browser gets in, from any address.
    assert _sign_in(owner, csrf_token(owner), password=PASSWORD,
                    address="198.51.100.1").status_code == 302


def test_a_device_cookie_counts_for_its_own_account_only_and_is_limited_too(app):
    """The attacker's own account's device cookie gives nothing on the victim's; and a
    device cookie (stolen, say) is limited per device like an account."""
    make_user(app)
    make_user(app, "mallory@example.com", "Mallory")
    attacker = _owner_browser(app)  # a browser that signed in to the victim's account once
    mallory = app.test_client()
    assert _sign_in(mallory, csrf_token(mallory), "mallory@example.com", PASSWORD,
                    address="203.0.113.1").status_code == 302
    mallory.post("/signout", data={"csrf_token": csrf_token(mallory, "/")})
    token = csrf_token(attacker)
    for n in range(50):
        assert _sign_in(attacker, token, address=f"203.0.114.{n}").status_code == 400
    _assert_refused(_sign_in(attacker, token, address="203.0.114.99"))
    # Those failures were the device's: the account's counter is untouched. Mallory's
    # own cookie does not pass for the victim's, so her browser counts on the account's.
    token = csrf_token(mallory)
    for n in range(50):
        assert _sign_in(mallory, token, address=f"203.0.115.{n}").status_code == 400
    _assert_refused(_sign_in(mallory, token, address="203.0.115.99"))


def _forgot(client, address, email="learner@example.com"):
    response = client.post("/forgot-password", data={
        "csrf_token": csrf_token(client, "/forgot-password"), "email": email},
        environ_base={"REMOTE_ADDR": address})
    response.close()
    return response


def test_an_attackers_reset_requests_do_not_block_the_owners(make_app, tmp_path):
    """Issue 20 finding 2: 10 reset requests from one address blocked the victim's own
    for an hour. The attacker is refused after the limit; the owner's browser asks on
    its own counter and gets the mail."""
    app = make_app()
    make_user(app)
    owner = _owner_browser(app)
    attacker = app.test_client()
    for _ in range(10):
        assert _forgot(attacker, "203.0.113.7").status_code == 200
    _assert_refused(_forgot(attacker, "203.0.113.7"), window=3600, says=TOO_MANY_LINKS)
    _assert_refused(_forgot(attacker, "203.0.113.8"), window=3600,  # per account too
                    says=TOO_MANY_LINKS)
    assert _forgot(owner, "198.51.100.2").status_code == 200
    outbox = Path(app.config["MAIL_OUTBOX"])
    deadline = time.monotonic() + 10
    while len(list(outbox.glob("*.eml"))) < 11 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(outbox.glob("*.eml"))) == 11


def _reset_path(raw: bytes) -> str:
    """The path of the reset link in a mail (its host is PUBLIC_URL's)."""
    body = message_from_bytes(raw, policy=policy.default).get_content()
    match = re.search(r"https?://[^/\s]+(/reset-password/\S+)", body)
    assert match, body
    return match.group(1)


def test_an_owner_on_a_new_browser_is_sent_to_the_links_already_mailed(make_app):
    """The other side of finding 2: on a browser that never signed in, the owner shares the
    account's reset counter with the attacker. The refusal says where the links the
    attacker's requests sent are, and the newest of them resets the password."""
    app = make_app()
    make_user(app)
    attacker = app.test_client()
    for _ in range(10):
        assert _forgot(attacker, "203.0.113.7").status_code == 200
    owner = app.test_client()
    _assert_refused(_forgot(owner, "198.51.100.3"), window=3600, says=TOO_MANY_LINKS)
    outbox = Path(app.config["MAIL_OUTBOX"])
    deadline = time.monotonic() + 10
    while len(list(outbox.glob("*.eml"))) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    newest = max(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    link = _reset_path(newest.read_bytes())
    response = owner.post(link, data={
        "csrf_token": csrf_token(owner, link), "password": "a new passphrase for spring",
        "confirm": "a new passphrase for spring"}, environ_base={"REMOTE_ADDR": "198.51.100.3"})
    assert response.status_code == 302
    assert AuthActions(app.test_client(), app).sign_in(
        password="a new passphrase for spring").status_code == 302


@pytest.mark.parametrize(("url", "field"), [("/account/password", "password-current"),
                                            ("/account/delete", "delete-password")])
def test_the_account_forms_that_check_a_password_are_rate_limited(make_app, url, field):
    """Issue 20 finding 4: 120 wrong current passwords on the account page met no 429."""
    app = make_app(RATE_LIMIT_SIGN_IN="5 per 15 minutes")
    client = app.test_client()
    AuthActions(client, app).learner()
    token = csrf_token(client, "/account")
    data = {"csrf_token": token, field: WRONG, "password-password": "plum kettle orbit",
            "password-confirm": "plum kettle orbit"}
    statuses = [client.post(url, data=data).status_code for _ in range(5)]
    assert statuses == [400] * 5
    _assert_refused(client.post(url, data=data))
    with app.app_context():
        from course.db import get_session
        from course.services.accounts import find_by_email
        assert find_by_email(get_session(), "learner@example.com") is not None


def test_no_rate_limit_key_or_cookie_holds_the_email(make_app, redis_url, redis_prefix):
    """Issue 20 finding 8: Redis keys were named by the email (and outlived a deleted
    account). They are named by a keyed hash of it."""
    app = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=redis_prefix)
    make_user(app)
    owner = _owner_browser(app)
    client = app.test_client()
    _sign_in(client, csrf_token(client))
    _forgot(client, "203.0.113.1")
    counters = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in counters.scan_iter(match=f"*{redis_prefix}*")]
    finally:
        counters.close()
    assert any("account:" in k for k in keys), keys
    assert not [k for k in keys if "learner" in k or "example.com" in k], keys
    cookie = owner.get_cookie(device_cookies.COOKIE).value
    payload = cookie.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"learner" not in decoded and b"learner" not in cookie.encode()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_redis_down_is_logged_reported_on_health_and_still_limits(make_app, caplog):
    """Issue 20 finding 9: with REDIS_URL on a closed port sign-in worked, nothing was
    logged, and /health said ok. Now: an error at start and at the fall-back, /health
    "degraded" with per-worker counts, and each worker still limits in memory."""
    caplog.set_level(logging.INFO, logger="course")
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}/0",
                   RATE_LIMIT_SIGN_IN="3 per 15 minutes")
    errors = [r.getMessage() for r in caplog.records
              if r.name == "course.limits" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "RATE LIMITS COUNT PER WORKER" in errors[0]
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json() == {"status": "degraded", "database": "ok",
                                 "rate_limit_counts": "per worker",
                                 "rate_limit_storage": "unreachable"}
    make_user(app)
    caplog.clear()
    token = csrf_token(client)
    assert [_sign_in(client, token).status_code for _ in range(3)] == [400] * 3
    _assert_refused(_sign_in(client, token))
    fallbacks = [r.getMessage() for r in caplog.records
                 if r.name == "course.limits" and r.levelno == logging.ERROR]
    assert len(fallbacks) == 1 and "NOW COUNT PER WORKER" in fallbacks[0]


def _shut(end: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already shut by the other direction's pump
        end.shutdown(socket.SHUT_RDWR)


class _Relay:
    """A TCP relay to the test Redis that can be cut and restored, as a network can."""

    def __init__(self, redis_url: str) -> None:
        parts = urllib.parse.urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}{parts.path}"
        self.up = True
        self.sockets: list[socket.socket] = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener is closed
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # cut
        for end in (source, sink):
            _shut(end)

    def cut(self) -> None:
        """Drop every connection and refuse new ones until `restore`."""
        self.up = False
        for end in self.sockets:
            _shut(end)  # wakes the pump blocked on it
            end.close()
        self.sockets.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.accepting.join(timeout=5)


def test_a_fall_back_and_the_recovery_are_each_logged_once(make_app, redis_url,
                                                          redis_prefix, caplog):
    """Redis lost after start-up: the next counted request logs the fall-back to memory
    as an error, once; Redis back: the first counted request after Flask-Limiter looks
    at it again (it waits longer after each failed look: 1 s, 2 s, ...) logs the
    recovery, once, and counts in Redis again."""
    caplog.set_level(logging.INFO, logger="course")
    relay = _Relay(redis_url)
    try:
        app = make_app(RATELIMIT_STORAGE_URI=relay.url, RATELIMIT_KEY_PREFIX=redis_prefix,
                       RATE_LIMIT_SIGN_IN="1000 per 15 minutes")
        client = app.test_client()
        token = csrf_token(client)

        def lines(level):
            return [r.getMessage() for r in caplog.records
                    if r.name == "course.limits" and r.levelno == level]

        assert _sign_in(client, token).status_code == 400
        assert lines(logging.ERROR) == []
        relay.cut()
        for _ in range(3):
            assert _sign_in(client, token).status_code == 400
        errors = lines(logging.ERROR)
        assert len(errors) == 1 and "NOW COUNT PER WORKER" in errors[0]
        assert client.get("/health").get_json()["status"] == "degraded"
        relay.restore()
        deadline = time.monotonic() + 10
        while not lines(logging.WARNING) and time.monotonic() < deadline:
            time.sleep(0.2)
            assert _sign_in(client, token).status_code == 400
        recovered = lines(logging.WARNING)
        assert len(recovered) == 1 and "Redis answers again" in recovered[0]
        assert client.get("/health").get_json()["status"] == "ok"
        counters = redis.Redis.from_url(redis_url)
        try:
            for key in counters.scan_iter(match=f"*{redis_prefix}*"):
                counters.delete(key)  # counted before the cut
            assert _sign_in(client, token).status_code == 400
            assert list(counters.scan_iter(match=f"*{redis_prefix}*")), "nothing in Redis"
        finally:
            counters.close()
        assert len(lines(logging.ERROR)) == 1 and len(lines(logging.WARNING)) == 1
    finally:
        relay.close()


def test_health_says_where_rate_limits_count(make_app, redis_url, redis_prefix):
    shared = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=redis_prefix)
    assert shared.test_client().get("/health").get_json() == {
        "status": "ok", "database": "ok", "rate_limit_counts": "shared"}
    alone = make_app()
    assert alone.test_client().get("/health").get_json() == {
        "status": "ok", "database": "ok", "rate_limit_counts": "per worker"}
