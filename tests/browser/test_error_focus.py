"""After a refused submit, focus lands on the error summary, whose links lead to the
fields; the review form's errors are tied to their fields."""

from __future__ import annotations

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from course.models import Role
from tests.browser.test_axe import sign_in
from tests.helpers import PASSWORD, make_user
from tests.review_factories import VISION, VISION_ANSWER, submit


def expect_summary_focused(page: Page) -> None:
    summary = page.locator(".error-summary").first
    expect(summary).to_be_focused()
    for link in summary.locator("a[href^='#']").all():
        target = link.get_attribute("href")
        assert target != "#" and page.locator(target).count() == 1, target


def test_sign_in_sign_up_and_exercise_errors_take_focus(live_server, make_app, page):
    make_user(make_app())
    page.goto(live_server + "/signin")
    page.get_by_label("Email").fill("learner@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect_summary_focused(page)
    page.locator(".error-summary a").first.click()
    expect(page.get_by_label("Password")).to_be_focused()

    page.goto(live_server + "/signup")
    page.get_by_role("button", name="Sign up").click()
    expect_summary_focused(page)
    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")

    sign_in(page, live_server, "learner@example.com", PASSWORD)
    page.goto(live_server + "/exercises/roadmap-or-backlog")
    page.get_by_role("button", name="Submit answer").click()
    expect_summary_focused(page)
    expect(page.locator(".error-summary")).to_contain_text("no attempt was used")


def test_review_errors_take_focus_and_are_tied_to_their_fields(live_server, make_app, page):
    app = make_app()
    learner = make_user(app)
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    attempt = submit(app, learner.id, VISION, VISION_ANSWER)
    sign_in(page, live_server, "teacher@example.com", PASSWORD)
    page.goto(f"{live_server}/instructor/submissions/{attempt}")
    page.get_by_text("Override the score").click()  # folded away until wanted
    page.get_by_label("Override score (%)").fill("250")
    page.get_by_role("button", name="Save", exact=True).click()
    expect_summary_focused(page)
    override = page.get_by_label("Override score (%)")
    expect(override).to_have_attribute("aria-invalid", "true")
    described = override.get_attribute("aria-describedby").split()
    assert page.locator(f"#{described[-1]}").inner_text() == "Enter a score from 0 to 100."
    reason = page.get_by_label("Reason for the override")
    expect(reason).to_have_attribute("aria-invalid", "true")


# What a summary link focuses once the page's script has enhanced the form: the card on a
# board (its radios are hidden), an order item's first button (its select is hidden), the
# first option of a question, the written answer's field, the first control of a board.
EXERCISE_TARGETS = {
    "roadmap-or-backlog": "li.card",
    "build-now-next-later": "li.card",
    "final-quiz": "input[type=radio], input[type=checkbox]",
    "order-the-tools": ".order-item button",
    "write-a-product-vision": "textarea",
    "your-own-roadmap": "button, textarea",
}


def test_every_exercise_kind_links_each_problem_to_its_field(live_server, make_app, page):
    make_user(make_app())
    sign_in(page, live_server, "learner@example.com", PASSWORD)
    for step_id, focused_kind in EXERCISE_TARGETS.items():
        page.goto(f"{live_server}/exercises/{step_id}")
        page.get_by_role("button", name="Submit answer").click()
        expect_summary_focused(page)
        links = page.locator(".error-summary li a")
        assert links.count() > 1, step_id  # one per problem, not one "Go to your answer"
        for n in (0, links.count() - 1):
            link = links.nth(n)
            target = page.locator(link.get_attribute("href"))
            link.click()
            focused = page.locator(":focus")
            expect(focused).to_have_count(1)
            assert focused.evaluate(f"el => el.matches({focused_kind!r})"), (step_id, n)
            # The focus is on the field named, or inside the card or item that holds it.
            assert focused.evaluate(
                "(el, t) => el === t || el.contains(t) || t.contains(el)"
                " || el.closest('li, fieldset') === t.closest('li, fieldset')",
                target.element_handle()), (step_id, n)
            page.locator(".error-summary").focus()
