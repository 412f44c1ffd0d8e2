"""Hypothesis posts random and hostile forms to every POST route in app.url_map, as an
anonymous visitor, a learner and an instructor: never a 5xx, and nothing stored when the
answer is a 4xx (issue 7). Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL.

Forms mix the real field names of the site's forms with random ones, repeated fields,
NUL and other control characters, huge values and raw bodies that are not UTF-8; most
carry a valid CSRF token so the views themselves are reached. Rate limits are off here
(tests/test_rate_limits.py covers them), or the fuzzer would only meet 429s.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from course.models import Role
from tests.forms import concrete_url, forms_on, snapshot
from tests.helpers import PASSWORD, csrf_token, make_user
from tests.review_factories import VISION, VISION_ANSWER, submit

pytestmark = pytest.mark.slow

LEARNER = "fuzz-learner@example.com"
INSTRUCTOR = "fuzz-teacher@example.com"
PAGES = ["/signin", "/signup", "/forgot-password", "/account", "/exercises/{vision}",
         "/exercises/roadmap-or-backlog", "/exercises/final-quiz",
         "/instructor/submissions/{attempt}", "/instructor/submissions",
         "/lessons/product-vision"]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\ufffd", "\r\n", "%", "=",
                              "&", "<script>", "'", '"', "é", "💥", "a"]),
             max_size=12).map("".join),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "99999999999999999999",
                     "2147483648", "../../etc/passwd", "/x\r\nSet-Cookie: a=b",
                     "x" * 70_000]),
)


@pytest.fixture
def site(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    learner = make_user(app, LEARNER, "Fuzz Learner")
    make_user(app, INSTRUCTOR, "Fuzz Teacher", role=Role.INSTRUCTOR)
    attempt = submit(app, learner.id, VISION, VISION_ANSWER)
    routes = sorted({concrete_url(rule.rule, attempt, VISION) for rule in app.url_map.iter_rules()
                     if "POST" in rule.methods})
    names: set[str] = set()
    for role in ("anonymous", "learner", "instructor"):
        client = _client(app, role)
        for page in PAGES:
            html = client.get(page.format(vision=VISION, attempt=attempt)).get_data(
                as_text=True)
            names.update(n for form in forms_on(html, page) for n in form.names)
    return app, routes, sorted(names)


def _client(app, role: str):
    client = app.test_client()
    email = {"learner": LEARNER, "instructor": INSTRUCTOR}.get(role)
    if email:
        response = client.post("/signin", data={"csrf_token": csrf_token(client),
                                                 "email": email, "password": PASSWORD})
        assert response.status_code == 302
    return client


@st.composite
def hostile_posts(draw, routes: list[str], names: list[str]):
    route = draw(st.sampled_from(routes))
    if draw(st.integers(0, 9)) == 0:  # a raw body, often not UTF-8
        return route, draw(st.binary(max_size=200)), None
    name = st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=20))
    fields = draw(st.lists(st.tuples(name, hostile_text), max_size=12))
    if draw(st.integers(0, 4)):
        fields.append(("csrf_token", "<valid>"))
    if draw(st.integers(0, 9)) == 0:  # a flood of fields
        fields += [(f"f{n}", "x") for n in range(draw(st.integers(400, 2000)))]
    return route, None, fields


@pytest.mark.parametrize("role", ["anonymous", "learner", "instructor"])
def test_random_and_hostile_forms_never_500_and_store_nothing_when_refused(site, role):
    app, routes, names = site

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(post=hostile_posts(routes, names))
    def check(post):
        route, raw, fields = post
        client = _client(app, role)
        token = csrf_token(client, "/signin" if role == "anonymous" else "/")
        before = snapshot(app)
        if raw is not None:
            response = client.post(route, data=raw,
                                   content_type="application/x-www-form-urlencoded")
        else:
            data = MultiDict([(k, token if v == "<valid>" else v) for k, v in fields])
            response = client.post(route, data=data)
        status = response.status_code
        response.close()
        assert status < 500, (route, status)
        if 400 <= status < 500:
            assert snapshot(app) == before, (route, status)

    check()
