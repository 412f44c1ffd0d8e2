"""A new visitor signs up, reads the first lesson, marks it complete and sees progress rise."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from tests.helpers import course_at

COURSE = course_at()
FIRST_LESSON = COURSE.steps[0]
TOTAL = len(COURSE.steps)


def test_new_visitor_signs_up_reads_a_lesson_and_sees_progress(live_server: str,
                                                                page: Page) -> None:
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE.title)
    expect(page.get_by_role("link", name="My progress")).to_have_count(0)

    # Sign up through the form.
    page.get_by_role("link", name="Sign up", exact=True).click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Display name").fill("Ada Learner")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Confirm password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("status")).to_contain_text("Welcome, Ada Learner!")
    expect(page.get_by_text(f"0 of {TOTAL}")).to_be_visible()

    # Open the first lesson from the outline.
    outline = page.get_by_role("list").filter(has_text=FIRST_LESSON.title).last
    outline.get_by_role("link", name=re.compile(re.escape(FIRST_LESSON.title))).click()
    expect(page).to_have_url(f"{live_server}/lessons/{FIRST_LESSON.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(FIRST_LESSON.title)

    page.get_by_role("button", name=re.compile("^Mark as complete")).click()
    # Marking it complete goes on to the next step of the outline.
    expect(page).to_have_url(re.compile(re.escape(COURSE.steps[1].id) + "$"))
    expect(page.get_by_role("status")).to_contain_text("as complete.")
    page.goto(f"{live_server}/lessons/{FIRST_LESSON.id}")
    expect(page.get_by_text("You completed this lesson.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()

    # My progress shows it.
    page.get_by_role("link", name="My progress").click()
    expect(page.get_by_role("heading", name="My progress")).to_be_visible()
    expect(page.get_by_text(f"1 of {TOTAL}")).to_be_visible()
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("value", "1")
    expect(progress).to_have_attribute("max", str(TOTAL))
    row = page.get_by_role("row").filter(has_text=FIRST_LESSON.title)
    expect(row.get_by_text(re.compile(r"^\W*Done$"))).to_be_visible()

    # Signing out ends the session.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    expect(page.get_by_role("link", name="My progress")).to_have_count(0)


def test_signing_in_and_completing_a_lesson_work_without_javascript(live_server: str,
                                                                     make_page) -> None:
    page = make_page(java_script_enabled=False)
    page.goto(f"{live_server}/lessons/{FIRST_LESSON.id}")
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Display name").fill("Grace")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Confirm password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()

    # `next` brought the learner back to the lesson they were reading.
    expect(page).to_have_url(f"{live_server}/lessons/{FIRST_LESSON.id}")
    page.get_by_role("button", name=re.compile("^Mark as complete")).click()
    expect(page).to_have_url(re.compile(re.escape(COURSE.steps[1].id) + "$"))
    page.goto(f"{live_server}/lessons/{FIRST_LESSON.id}")
    expect(page.get_by_text("You completed this lesson.")).to_be_visible()
    page.get_by_role("button", name="Mark as not complete").click()
    expect(page.get_by_role("button", name=re.compile("^Mark as complete"))).to_be_visible()
