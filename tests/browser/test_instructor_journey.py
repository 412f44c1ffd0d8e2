"""Instructor review in a real browser: a learner submits the vision assignment, an
instructor finds it in the queue, grades it with the rubric and writes Markdown feedback,
saves it as a draft the learner cannot see, releases it, and the learner sees "New
feedback" on My progress and reads it on the attempt page."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from course.models import Role
from tests.helpers import PASSWORD, make_user

VISION_URL = "/exercises/write-a-product-vision"


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My progress")).to_be_visible()


def test_instructor_grades_a_vision_and_the_learner_reads_the_feedback(
        live_server, make_app, make_page):
    # An instructor exists (made as the CLI would, on the live app's database).
    make_user(make_app(), "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)

    learner = make_page()
    learner.goto(live_server + "/signup")
    learner.get_by_label("Email").fill("vera@example.com")
    learner.get_by_label("Display name").fill("Vera Vision")
    learner.get_by_label("Password", exact=True).fill(PASSWORD)
    learner.get_by_label("Confirm password").fill(PASSWORD)
    learner.get_by_role("button", name="Sign up").click()
    learner.goto(live_server + VISION_URL)
    learner.get_by_label("Your vision statement").fill(
        "Bikeshare Leeds: every short trip in the city is *easier* by bike.")
    learner.get_by_label("Three strategy choices").fill(
        "- Commuters first\n- Docks at every station\n- No tourist tours for now")
    learner.get_by_role("button", name="Submit answer").click()
    expect(learner.get_by_text("Awaiting review by an instructor")).to_be_visible()
    attempt_url = learner.url

    teacher = make_page()
    sign_in(teacher, live_server, "teacher@example.com")
    teacher.goto(live_server + "/instructor/submissions")
    teacher.get_by_label("Status").select_option(label="Awaiting review")
    teacher.get_by_role("button", name="Filter").click()
    expect(teacher).to_have_url(re.compile(r"status=awaiting_review"))
    teacher.get_by_role("link", name="Vera Vision", exact=True).click()
    expect(teacher.get_by_text("every short trip in the city is")).to_be_visible()
    expect(teacher.locator(".learner-answer em")).to_have_text("easier")  # Markdown rendered

    for criterion, level in [("The vision is short and aspirational", "Strong"),
                             ("The strategy explains how", "Partial"),
                             ("Strategy choices are choices", "Real choices"),
                             ("Vision and strategy are kept distinct", "Clearly distinct")]:
        group = teacher.get_by_role("group", name=re.compile("^" + re.escape(criterion)))
        group.get_by_label(re.compile("^" + re.escape(level))).check()
    teacher.get_by_label("Feedback to the learner").fill(
        "A **clear** vision.\n\n- Say *why* commuters come first.")
    expect(teacher.locator("#running-total")).to_have_text("7 of 8 points")
    teacher.get_by_role("button", name="Save", exact=True).click()
    expect(teacher.get_by_text("Review saved as a draft")).to_be_visible()
    expect(teacher.locator(".score-summary")).to_contain_text("88%")

    # A draft: the learner sees nothing of it yet.
    returning = make_page()
    sign_in(returning, live_server, "vera@example.com")
    returning.get_by_role("link", name="My progress").click()
    expect(returning.get_by_text("New feedback")).to_have_count(0)
    returning.goto(attempt_url)
    expect(returning.get_by_text("Awaiting review by an instructor")).to_be_visible()

    teacher.get_by_role("button", name="Release this review").click()
    expect(teacher.get_by_text("Review released")).to_have_count(2)  # flash, history
    returning.get_by_role("link", name="My progress").click()
    # Shown in the header on every page, and on the exercise's row of My progress.
    expect(returning.get_by_role("banner").get_by_text("New feedback")).to_be_visible()
    expect(returning.get_by_role("main").get_by_text("New feedback")).to_be_visible()
    returning.goto(attempt_url)
    feedback = returning.get_by_role("region", name="Feedback from your instructor")
    expect(feedback).to_contain_text("Reviewed by Ines Instructor")
    expect(feedback).to_contain_text("Clearly distinct")
    expect(feedback.locator(".instructor-comment strong")).to_have_text("clear")
    expect(feedback.locator("li em")).to_have_text("why")
    returning.get_by_role("link", name="My progress").click()
    expect(returning.get_by_text("New feedback")).to_have_count(0)
