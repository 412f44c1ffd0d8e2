"""Defects 2 and 7 of issue 7: a NUL byte, a control character or bytes that are not UTF-8
in any form or query-string field get a clear 400 and store nothing, on both databases.

`test_every_field_of_every_form_refuses_a_nul_byte` reads the forms off every page of the
page catalogue (tests/page_catalogue.py) as each role sees them, so a field added to any
form later is covered without editing this file.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from course.request_checks import REFUSED, TOO_MANY
from tests import page_catalogue
from tests.forms import forms_on, snapshot
from tests.helpers import PASSWORD, csrf_token, make_user


def _post_raw(client, url: str, body: bytes):
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


def _assert_refused(response, message=REFUSED):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    assert 'class="site-header"' in page


def _signed_in_client(app, role, filled):
    client = app.test_client()
    login = page_catalogue.credentials(role, filled)
    if login:
        response = client.post("/signin", data={"csrf_token": csrf_token(client),
                                                 "email": login[0], "password": login[1]})
        assert response.status_code == 302, f"{role} could not sign in"
    return client


@pytest.mark.slow
def test_every_field_of_every_form_refuses_a_nul_byte(app):
    filled = page_catalogue.fill(app)
    tried: set[tuple[str, str, str, str]] = set()
    for role, visits in page_catalogue.by_role(page_catalogue.visits(app, filled)):
        client = _signed_in_client(app, role, filled)
        # Read every page first: opening some (an attempt with new feedback) changes rows.
        forms = [form for visit in visits if visit.form is None and visit.status == 200
                 for form in forms_on(client.get(visit.url).get_data(as_text=True),
                                      visit.url)]
        before = snapshot(app)
        for form in forms:
            action = urlsplit(form.action).path
            for name in form.names:
                key = (role, form.method, action, name)
                if key in tried:
                    continue
                tried.add(key)
                data = form.data_with(name, "before\x00after")
                if form.method == "post":
                    response = client.post(form.action, data=MultiDict(data))
                else:
                    response = client.get(f"{action}?{urlencode(data)}")
                assert response.status_code == 400, (key, response.status_code)
                assert REFUSED in response.get_data(as_text=True).replace("&#39;", "'")
        assert snapshot(app) == before, f"a refused form stored something ({role})"
    fields = {(method, action, name) for _, method, action, name in tried}
    # The catalogue's pages hold sign-in, sign-up, sign-out, exercise answers, completion,
    # review, regrade and queue-filter forms: far more than a handful of fields.
    assert len(fields) > 40, sorted(fields)
    assert {("post", "/signin", "email"), ("post", "/signup", "display_name"),
            ("get", "/instructor/submissions", "learner")} <= fields


@pytest.mark.parametrize("value", [
    "a\x00b", "\x00", "tab\x01", "bell\x07", "esc\x1b[31m", "del\x7f", "\ufffd"])
def test_control_characters_are_refused_and_plain_whitespace_is_not(app, client, value):
    make_user(app)
    token = csrf_token(client)
    response = client.post("/signin", data={"csrf_token": token, "email": "x@example.com",
                                            "password": value})
    _assert_refused(response)
    ok = client.post("/signin", data={"csrf_token": token, "email": "x@example.com",
                                      "password": "tab\tnew\r\nline"})
    assert ok.status_code == 400 and "do not match" in ok.get_data(as_text=True)


@pytest.mark.parametrize("body", [
    b"email=%FF%FE&password=x",           # percent-encoded bytes that are not UTF-8
    b"email=\xff\xfe&password=x",         # raw bytes that are not UTF-8
    b"email=%C0%80&password=x",           # an overlong NUL
    b"email%00=x&password=x",             # a NUL in a field's name
    b"em\x00ail=x&password=x",
])
def test_bad_encodings_in_a_form_are_refused(app, client, body):
    token = csrf_token(client)
    before = snapshot(app)
    _assert_refused(_post_raw(client, "/signup", body + b"&csrf_token=" + token.encode()))
    assert snapshot(app) == before


@pytest.mark.parametrize("query", ["learner=%00", "learner=%FF", "q%00=1", "learner=a%1Fb"])
def test_bad_query_strings_are_refused(auth, client, query):
    auth.instructor()
    _assert_refused(client.get(f"/instructor/submissions?{query}"))


def test_a_nul_in_the_path_is_refused(client):
    _assert_refused(client.get("/lessons/a%00b"))


def test_a_nul_in_a_sign_up_stores_no_account(app, client):
    response = client.post("/signup", data={
        "csrf_token": csrf_token(client, "/signup"), "email": "nul@example.com",
        "display_name": "Nul\x00Name", "password": PASSWORD, "confirm": PASSWORD})
    _assert_refused(response)
    assert snapshot(app)["users"] == []


def test_twenty_thousand_unknown_fields_get_a_short_answer(auth, client, app):
    auth.learner()
    exercise = "roadmap-or-backlog"
    token = csrf_token(client, f"/exercises/{exercise}")
    before = snapshot(app)
    body = "&".join([f"csrf_token={quote(token)}",
                     *(f"u{n}=x" for n in range(20_000))]).encode()
    assert len(body) < 256 * 1024  # under the size limit: the field count is what is refused
    response = _post_raw(client, f"/exercises/{exercise}", body)
    _assert_refused(response, TOO_MANY)
    assert len(response.data) < 5_000
    assert snapshot(app) == before


@pytest.mark.parametrize("next_", ["/x\r\nSet-Cookie: stolen=1", "/x%0D%0ASet-Cookie:a=b",
                                   "/x%250D%250Aa"])
def test_a_next_with_a_line_break_signs_in_and_goes_home(app, client, next_):
    make_user(app)
    page = client.get(f"/signin?next={quote(next_)}")
    assert page.status_code == 200
    response = client.post(f"/signin?next={quote(next_)}", data={
        "csrf_token": csrf_token(client), "email": "learner@example.com",
        "password": PASSWORD, "next": next_})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "stolen" not in str(response.headers)
