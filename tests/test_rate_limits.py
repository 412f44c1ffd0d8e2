"""Defect 4 of issue 7: sign-in and sign-up are rate limited per address and per account,
with a 429 page in the layout and Retry-After; Redis shares the counts between app servers.
Defect 5: refusing an unknown email costs the same password hash as a known one."""

from __future__ import annotations

import pytest
import redis

from tests.helpers import PASSWORD, csrf_token, make_user

WRONG = "not the password at all"


def _sign_in(client, token, email="learner@example.com", password=WRONG, address=None):
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post("/signin", data={"csrf_token": token, "email": email,
                                        "password": password}, environ_base=environ)


def _assert_refused(response, window=15 * 60):
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= window
    page = response.get_data(as_text=True)
    assert 'class="site-header"' in page  # the site's layout, not a bare error
    assert "Too many attempts" in page


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
    """Limits count POSTs only: Flask-Limiter's app-wide pass is skipped for a page view
    (course/limits.py), and a form's page never carries the limit's headers."""
    make_user(app)
    for _ in range(60):
        page = client.get("/signin")
        assert page.status_code == 200
        assert "X-RateLimit-Limit" not in page.headers
    refused_password = _sign_in(client, csrf_token(client))
    assert refused_password.status_code == 400
    assert refused_password.headers["X-RateLimit-Remaining"] == "49"
