"""After the first attempt, on a 390x844 phone: fail an exercise, follow "review this" to
the lesson, retry from the previous answer (without JavaScript, and on the board.js
board), run out of attempts and be told what it means, finish the course and open the
certificate, which anyone with the link can see."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from sqlalchemy import select

from course.config import REPO_ROOT
from course.content.loader import load_course
from course.db import get_session
from course.models import StepProgress, User
from tests.browser.conftest import serving

COURSE = load_course(REPO_ROOT)
SORT = COURSE.exercise("roadmap-or-backlog")
PASSWORD = "correct horse battery"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def sign_up(page: Page, base: str, email: str, name: str) -> None:
    page.goto(base + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name=re.compile("^My progress"))).to_be_visible()


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile("^My progress"))).to_be_visible()


def wrong_bucket(item) -> str:
    return next(b.label for b in SORT.spec.buckets if b.id != item.bucket)


def submit_all_wrong(page: Page, base: str) -> None:
    page.goto(f"{base}/exercises/{SORT.id}")
    for item in SORT.spec.items:
        page.get_by_role("group", name=f'Where does "{item.text}" go?') \
            .get_by_label(wrong_bucket(item), exact=True).check()
    page.get_by_role("button", name="Submit answer").click()


def test_fail_review_retry_run_out_finish_and_open_the_certificate(make_app, make_page):
    app = make_app()
    with serving(app) as base:
        page = make_page(java_script_enabled=False, **PHONE)
        # A visitor is told to sign in first, and comes back to the exercise.
        page.goto(f"{base}/exercises/{SORT.id}")
        expect(page.get_by_text("Sign in before you start.")).to_be_visible()
        sign_up(page, base, "loop@example.com", "Lou Learner")

        # Attempt 1: every item in the wrong bucket.
        submit_all_wrong(page, base)
        count = len(SORT.spec.items)
        expect(page.get_by_role("link", name=f"{count} to review")).to_be_visible()
        expect(page.get_by_role("heading", name=f"To review ({count})")).to_be_visible()

        # "Review this" leads to the lesson section that teaches it.
        review = page.locator(".review-link a").first
        href = review.get_attribute("href")
        assert href and "#" in href
        review.click()
        lesson_id, anchor = href.split("/lessons/")[1].split("#")
        expect(page).to_have_url(re.compile(re.escape(f"/lessons/{lesson_id}#{anchor}") + "$"))
        expect(page.locator(f"h2#{anchor}")).to_be_visible()
        page.go_back()

        # Retry starts from the previous answer, and can start over.
        page.get_by_role("link", name="Retry").first.click()
        expect(page.get_by_text("Your answer from attempt 1 is filled in below")).to_be_visible()
        first = SORT.spec.items[0]
        group = page.get_by_role("group", name=f'Where does "{first.text}" go?')
        expect(group.get_by_label(wrong_bucket(first), exact=True)).to_be_checked()
        page.get_by_role("link", name="Start over with a blank answer").click()
        expect(page.get_by_role("group", name=f'Where does "{first.text}" go?')
               .get_by_label(wrong_bucket(first), exact=True)).not_to_be_checked()

        # With board.js, the retry's board has the cards where the learner left them.
        board = make_page(**PHONE)
        sign_in(board, base, "loop@example.com")
        board.goto(f"{base}/exercises/{SORT.id}")
        column = board.get_by_role("list", name=re.compile(
            "^" + re.escape(wrong_bucket(first)) + r" \("))
        expect(column).to_contain_text(first.text)

        # Attempt 2, then the last one, which asks to be confirmed first.
        submit_all_wrong(page, base)
        page.get_by_role("link", name="Retry").first.click()
        page.get_by_role("button", name="Submit answer").click()
        expect(page.get_by_text("This would use your last attempt")).to_be_visible()
        page.get_by_label("I understand this is my last attempt at this exercise").check()
        page.get_by_role("button", name="Submit answer").click()

        # Out of attempts: told what it means.
        expect(page.get_by_role("heading", name="You have used every attempt")).to_be_visible()
        expect(page.get_by_text("done, not passed", exact=True)).to_be_visible()
        expect(page.get_by_text("still finish it and get your certificate")).to_be_visible()
        expect(page.get_by_role("link", name="Retry")).to_have_count(0)
        page.get_by_role("link", name=re.compile("^My progress")).click()
        row = page.get_by_role("row").filter(has_text=SORT.title)
        expect(row).to_contain_text("Done, not passed")

        # Every other step done (lessons marked, exercises passed), as a learner would.
        with app.app_context():
            session = get_session()
            user_id = session.scalar(select(User.id).where(User.email == "loop@example.com"))
            session.add_all(StepProgress(user_id=user_id, step_id=s.id)
                            for s in COURSE.steps if s.id != SORT.id)
            session.commit()
        page.goto(base + "/")
        page.get_by_role("link", name="See your course results and certificate").click()
        expect(page.get_by_role("heading", name="You finished the course")).to_be_visible()
        expect(page.get_by_role("row").filter(has_text=SORT.title)).to_contain_text(
            "Done, not passed")
        page.get_by_role("link", name="Open your certificate").click()
        expect(page.get_by_role("heading", name="Certificate of completion")).to_be_visible()
        expect(page.locator(".certificate-name")).to_have_text("Lou Learner")
        certificate_url = page.url

        # Anyone with the link sees it, signed in or not.
        stranger = make_page(java_script_enabled=False)
        stranger.goto(certificate_url)
        expect(stranger.locator(".certificate-name")).to_have_text("Lou Learner")
        expect(stranger.get_by_role("link", name=certificate_url)).to_be_visible()
