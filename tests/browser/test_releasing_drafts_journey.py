"""Draft reviews in a real browser, on a desktop and on a phone: an instructor signs in
and lands on the dashboard, saves a draft, follows the flash to its release button, sees
the dashboard count drafts apart from work awaiting review and warn about an old one,
and releases them from there; axe finds nothing on each of those states."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from course.db import get_session
from course.models import Attempt, Role
from course.models.timestamps import utcnow
from tests.browser.axe import axe_source, violations
from tests.helpers import PASSWORD, make_user
from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
MIN_TARGET = 24  # px, WCAG 2.5.8


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def no_violations(page: Page) -> None:
    assert violations(page, axe_source()) == []


def big_enough(locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_instructor_finds_and_releases_drafts(live_server, make_app, make_page, device):
    app = make_app()
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    learners = [make_user(app, f"l{n}@example.com", f"Lea {n}").id for n in range(3)]
    ids = [submit(app, learner, VISION, VISION_ANSWER) for learner in learners]

    teacher = make_page(**device)
    sign_in(teacher, live_server, "teacher@example.com")
    # No `next`: the instructor's home is the dashboard, not the learner home.
    expect(teacher).to_have_url(live_server + "/instructor/")
    expect(teacher.get_by_role("heading", name="Instructor dashboard")).to_be_visible()
    expect(teacher.get_by_text("3 submissions await review")).to_be_visible()

    for attempt_id in ids[:2]:
        teacher.goto(f"{live_server}/instructor/submissions/{attempt_id}")
        expect(teacher).to_have_title(re.compile(
            r"^Lea \d · Write a vision and a strategy · Submission \d+ · "))
        for group in teacher.locator("fieldset[data-criterion]").all():
            group.get_by_role("radio").first.check()
        teacher.get_by_role("button", name="Save", exact=True).click()
        flash = teacher.locator(".flash", has_text="Review saved as a draft")
        expect(flash).to_be_visible()
    no_violations(teacher)
    # The flash leads to the button that releases this draft.
    flash.get_by_role("link", name="Release it").click()
    expect(teacher).to_have_url(re.compile(r"#release-draft$"))
    release = teacher.get_by_role("button", name="Release this review")
    expect(release).to_be_in_viewport()
    big_enough(release)

    with app.app_context():  # one draft was saved two days ago and forgotten
        session = get_session()
        session.execute(update(Attempt).where(Attempt.id == ids[0]).values(
            draft_saved_at=utcnow() - timedelta(days=2)))
        session.commit()
    teacher.goto(live_server + "/instructor/")
    expect(teacher.get_by_text("1 submission awaits review")).to_be_visible()
    callout = teacher.get_by_role("region", name="2 draft reviews not released")
    expect(callout).to_be_visible()
    expect(callout).to_contain_text("1 was saved more than a day ago")
    drafts = teacher.get_by_role("link", name="2 drafts of Write a vision and a strategy")
    expect(drafts).to_be_visible()
    no_violations(teacher)
    drafts.click()
    expect(teacher).to_have_url(re.compile(r"status=draft"))
    expect(teacher.get_by_text("2 draft reviews of")).to_be_visible()
    expect(teacher.locator("td[data-label=Learner] > a:first-of-type")).to_have_count(2)

    teacher.goto(live_server + "/instructor/")
    release_all = callout.get_by_role("button", name="Release all 2 drafts")
    big_enough(release_all)
    release_all.click()
    expect(teacher).to_have_url(live_server + "/instructor/")
    expect(teacher.get_by_text("2 reviews released: the learners can see them now.")
           ).to_be_visible()
    expect(teacher.get_by_role("region", name=re.compile("not released"))).to_have_count(0)
    no_violations(teacher)


def test_releasing_from_the_dashboard_works_without_javascript(live_server, make_app,
                                                               make_page):
    app = make_app()
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    attempt_id = submit(app, make_user(app).id, VISION, VISION_ANSWER)
    teacher = make_page(java_script_enabled=False, **DESKTOP)
    sign_in(teacher, live_server, "teacher@example.com")
    teacher.goto(f"{live_server}/instructor/submissions/{attempt_id}")
    for group in teacher.locator("fieldset[data-criterion]").all():
        group.get_by_role("radio").first.check()
    teacher.get_by_role("button", name="Save", exact=True).click()
    teacher.goto(live_server + "/instructor/")
    teacher.get_by_role("button",
                        name="Release the drafts of Write a vision and a strategy").click()
    expect(teacher.get_by_text("1 review of “Write a vision and a strategy” released")
           ).to_be_visible()
    expect(teacher).to_have_url(live_server + "/instructor/")


def test_the_regrade_preview_names_changes_or_says_there_are_none(live_server, make_app,
                                                                  make_page):
    app = make_app()
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    submit(app, make_user(app).id, SORT, sort_form(app, wrong=1))
    teacher = make_page(**DESKTOP)
    sign_in(teacher, live_server, "teacher@example.com")
    teacher.goto(f"{live_server}/instructor/exercises/{SORT}/regrade")
    expect(teacher.get_by_role("heading", name="No score would change")).to_be_visible()
    expect(teacher.get_by_role("button", name=re.compile(r"^Regrade \d+ attempt"))
           ).to_have_count(0)
    expect(teacher.get_by_role("button", name="Refresh the feedback only")).to_be_visible()
    no_violations(teacher)
