"""Every route in app.url_map is classified, and each class is checked for real (issue 7).

- public: anyone, signed in or not;
- signed-in: an anonymous visitor is sent to sign in (nothing happens);
- owner: signed-in, and another learner's id is a 404;
- instructor: every /instructor page (the blueprint-wide check): anonymous -> sign in,
  learner -> 403.

A route added without a class here fails `test_every_route_is_classified`.
"""

from __future__ import annotations

import pytest

from tests.forms import concrete_url, snapshot
from tests.helpers import csrf_token, make_user
from tests.review_factories import VISION, VISION_ANSWER, submit

PUBLIC = "public"
SIGNED_IN = "signed-in"
OWNER = "owner"
INSTRUCTOR = "instructor"

CLASSES = {
    "learn.home": PUBLIC, "learn.lesson": PUBLIC, "learn.exercise": PUBLIC,
    "auth.sign_in": PUBLIC, "auth.sign_up": PUBLIC, "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC, "health.health": PUBLIC, "static": PUBLIC,
    "favicon": PUBLIC, "learn.certificate": PUBLIC,  # the public verification link
    "learn.submit_exercise": SIGNED_IN, "learn.toggle_complete": SIGNED_IN,
    "learn.my_progress": SIGNED_IN, "auth.sign_out": SIGNED_IN,
    "auth.account": SIGNED_IN, "auth.delete_account": SIGNED_IN,
    "auth.change_email_settings": SIGNED_IN, "auth.download_data": SIGNED_IN,
    "auth.change_name": SIGNED_IN, "auth.change_password": SIGNED_IN,
    "auth.sign_out_everywhere": SIGNED_IN,
    "learn.completion": SIGNED_IN,
    "learn.attempt": OWNER, "learn.self_assess": OWNER,
}


def _class(rule) -> str | None:
    if rule.rule.startswith("/instructor"):
        return INSTRUCTOR
    return CLASSES.get(rule.endpoint)


def _routes(app):
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   for method in sorted(rule.methods - {"HEAD", "OPTIONS"})),
                  key=lambda pair: (pair[0].rule, pair[1]))


def test_every_route_is_classified(app):
    missing = sorted(rule.rule for rule, _ in _routes(app) if _class(rule) is None)
    assert not missing, f"classify these routes in tests/test_access_control.py: {missing}"


@pytest.fixture
def attempt_of_lee(app):
    lee = make_user(app, "lee@example.com", "Lee Learner")
    return submit(app, lee.id, VISION, VISION_ANSWER)


def test_anonymous_visitors(app, client, attempt_of_lee):
    token = csrf_token(client)
    before = snapshot(app)
    for rule, method in _routes(app):
        kind = _class(rule)
        response = client.open(concrete_url(rule.rule, attempt_of_lee, VISION), method=method,
                               data={"csrf_token": token} if method == "POST" else None)
        response.close()
        to_sign_in = (response.status_code == 302
                      and response.headers["Location"].startswith("/signin"))
        if kind == PUBLIC:
            assert not to_sign_in and response.status_code not in (401, 403), rule.rule
            assert response.status_code < 500, (rule.rule, method, response.status_code)
        else:
            assert to_sign_in, (rule.rule, method, response.status_code)
    assert snapshot(app) == before


def test_learners_are_refused_instructor_pages_and_others_attempts(app, auth, client,
                                                                  attempt_of_lee):
    auth.learner("mia@example.com", "Mia Learner")
    token = csrf_token(client, "/")
    before = snapshot(app)
    checked = 0
    for rule, method in _routes(app):
        kind = _class(rule)
        if kind not in (INSTRUCTOR, OWNER):
            continue
        response = client.open(concrete_url(rule.rule, attempt_of_lee, VISION), method=method,
                               data={"csrf_token": token} if method == "POST" else None)
        expected = 403 if kind == INSTRUCTOR else 404
        assert response.status_code == expected, (rule.rule, method, response.status_code)
        checked += 1
    assert checked >= 10
    assert snapshot(app) == before


def test_owners_and_instructors_reach_the_attempt(app, auth, client, attempt_of_lee):
    auth.sign_in("lee@example.com")
    assert client.get(f"/attempts/{attempt_of_lee}").status_code == 200
    client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    auth.instructor()
    assert client.get(f"/instructor/submissions/{attempt_of_lee}").status_code == 200
