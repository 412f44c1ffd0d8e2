"""Grading at volume in a real browser: an instructor grades ten written submissions in a
row with the keyboard and "Save and next" (the rubric stays in view, so nobody scrolls
back to the top), releases them together, each learner gets an email (through a real
local SMTP server) and sees the feedback only after the release."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

from course.links import DEVELOPMENT_URL
from course.models import Role
from tests.browser.test_instructor_journey import sign_in
from tests.helpers import make_user
from tests.review_factories import VISION, VISION_ANSWER, submit
from tests.smtp_server import local_smtp

LEARNERS = 10
DESKTOP = {"width": 1366, "height": 900}


def test_ten_in_a_row_with_save_and_next_then_release_and_email(make_app, make_page,
                                                                 serve_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none",
                       MAIL_FROM="Course <course@example.org>")
        make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
        learners = [make_user(app, f"learner{n}@example.com", f"Learner {n:02d}")
                    for n in range(LEARNERS)]
        attempts = [submit(app, learner.id, VISION, VISION_ANSWER) for learner in learners]

        with serve_app(app) as base:
            teacher = make_page()
            teacher.set_viewport_size(DESKTOP)
            sign_in(teacher, base, "teacher@example.com")
            teacher.get_by_role("link", name="Instructor").click()
            teacher.get_by_role("link", name="Submissions", exact=True).click()
            # The work list by default: awaiting review, oldest first.
            teacher.get_by_role("link", name="Learner 00", exact=True).click()

            for n in range(LEARNERS):
                expect(teacher.get_by_role("heading", level=1)).to_contain_text("attempt 1")
                expect(teacher.locator(".submission-meta")).to_contain_text(f"Learner {n:02d}")
                expect(teacher.locator("#queue-remaining")).to_have_text(
                    f"{LEARNERS - 1 - n} more after this one")
                # Read down the whole answer: the rubric and the buttons stay in view.
                teacher.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                save_next = teacher.get_by_role("button", name="Save and next")
                expect(save_next).to_be_in_viewport()
                expect(teacher.locator(".review-side")).to_be_in_viewport()
                # Keys 1..n pick a level; focus moves on to the next criterion, then to
                # the feedback box.
                teacher.locator("[data-criterion] input").first.focus()
                for _ in range(4):
                    teacher.keyboard.press("1")
                expect(teacher.locator("#running-total")).to_have_text("8 of 8 points")
                expect(teacher.get_by_label("Feedback to the learner")).to_be_focused()
                teacher.keyboard.type(f"Clear and ambitious, learner {n}.")
                save_next.click()

            expect(teacher.get_by_text("That was the last submission in this list")).to_be_visible()
            assert smtp.received.messages == []  # drafts: nobody has been told yet

            # A learner sees nothing of a draft.
            waiting = make_page()
            sign_in(waiting, base, "learner0@example.com")
            waiting.goto(f"{base}/attempts/{attempts[0]}")
            expect(waiting.get_by_text("Awaiting review by an instructor")).to_be_visible()
            expect(waiting.get_by_role("region", name="Feedback from your instructor")) \
                .to_have_count(0)
            expect(waiting.get_by_text("Clear and ambitious")).to_have_count(0)

            teacher.get_by_label("Exercise").select_option(label="Write a vision and a strategy")
            teacher.get_by_label("Status").select_option(label="Draft review, not released")
            teacher.get_by_role("button", name="Filter").click()
            expect(teacher.locator("table.queue tbody tr")).to_have_count(LEARNERS)
            teacher.get_by_role("button", name=f"Release {LEARNERS} reviews").click()
            expect(teacher.get_by_text(f"{LEARNERS} reviews of")).to_be_visible()

            # The release queued the mail; the server's background sender sends it after
            # the answer, all of it over one SMTP connection.
            app.extensions["mail_delivery"].wait()
            received = list(smtp.received.messages)
            assert sorted(m["To"] for m in received) == sorted(person.email for person in learners)
            assert smtp.received.connections == 1
            for n, learner in enumerate(learners):
                message = next(m for m in received if m["To"] == learner.email)
                link = re.search(r"http://\S+/attempts/\d+", message.get_content()).group(0)
                # On PUBLIC_URL (its default here), never the live server's Host header:
                # followed on the live server by its path.
                assert link == f"{DEVELOPMENT_URL}/attempts/{attempts[n]}"
                page = make_page()
                sign_in(page, base, learner.email)
                page.goto(base + urlsplit(link).path)
                feedback = page.get_by_role("region", name="Feedback from your instructor")
                expect(feedback).to_contain_text("Reviewed by Ines Instructor")
                expect(feedback).to_contain_text(f"Clear and ambitious, learner {n}.")
                expect(feedback).to_contain_text("100%")
                page.context.close()
