"""axe-core finds no WCAG 2.0/2.1/2.2 A or AA violation, nor best-practice one, on any
page type (tests/page_catalogue.py) as anonymous, learner and instructor, nor on the
boards after cards have been moved.

One signed-in browser context per role walks that role's pages; pages that only a POST
produces are reached by posting their form from the page, as a browser would.
"""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from tests import page_catalogue
from tests.browser.axe import axe_source, violations

POST_FORM = """([url, fields]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = url;
  const own = Object.fromEntries(Array.from(
      document.querySelectorAll('input[type=hidden][name]')).map(i => [i.name, i.value]));
  for (const [name, value] of Object.entries({...own, ...fields})) {
    const input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


@pytest.fixture
def filled(make_app):
    return page_catalogue.fill(make_app())


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My progress")).to_be_visible()


def open_visit(page: Page, base: str, visit: page_catalogue.Visit) -> None:
    if visit.form is None:
        response = page.goto(base + visit.url)
    else:
        page.goto(base + (visit.source or visit.url))
        with page.expect_navigation() as navigation:
            page.evaluate(POST_FORM, [base + visit.url, visit.form])
        response = navigation.value
    assert response is not None and response.status == visit.status, visit


def test_no_axe_violations_on_any_page(live_server, make_app, make_page, filled):
    source = axe_source()
    found = {}
    for role, visits in page_catalogue.by_role(page_catalogue.visits(make_app(), filled)):
        page = make_page()
        login = page_catalogue.credentials(role, filled)
        if login:
            sign_in(page, live_server, *login)
        for visit in visits:
            open_visit(page, live_server, visit)
            problems = violations(page, source)
            if problems:
                found[f"{role}: {visit.name} ({visit.url})"] = problems
        page.context.close()
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(problems)
                                for where, problems in found.items())
