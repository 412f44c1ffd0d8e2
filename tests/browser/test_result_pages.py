"""Result pages lead with what to review: an item's text reads as the learner saw it (its
Markdown rendered, never shown as `**`), and a broken plan rule is listed in "To review"
with the items, near the top of the page, on a phone and on a desktop."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

from course.content.schema import Exercise
from course.db import get_session
from course.grading import registry
from course.models import User
from course.services.attempts.submit import submit
from tests.browser.test_axe import sign_in
from tests.browser.test_loop_journey import no_axe_violations
from tests.helpers import PASSWORD, course_at, make_user

COURSE = course_at()
QUIZ = COURSE.exercise("roadmap-or-delivery-plan")
BOARD = COURSE.exercise("build-now-next-later")
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


def model_answer(exercise: Exercise) -> Any:
    return registry.kind_of(exercise).model_answer(exercise.spec)


def open_result(base: str, app: Any, page: Any, exercise: Exercise, answer: Any) -> int:
    """Store a learner's graded attempt with `answer` the way a submission is, and open its
    result page signed in as them; returns the attempt's id."""
    make_user(app)
    form = registry.kind_of(exercise).form_from_answer(exercise.spec, answer)
    with app.app_context():
        user = get_session().query(User).filter_by(email="learner@example.com").one()
        attempt = submit(get_session(), user.id, exercise, form, secrets.token_hex(8),
                         exercise.version).id
    sign_in(page, base, "learner@example.com", PASSWORD)
    page.goto(f"{base}/attempts/{attempt}")
    return attempt


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_to_review_shows_item_text_without_markdown_syntax(live_server, make_app, make_page,
                                                           device):
    answer = model_answer(QUIZ)
    question = next(q for q in QUIZ.spec.questions if q.id == "where-the-beta-date-goes")
    answer["choices"][question.id] = [next(o.id for o in question.options
                                           if o.id not in answer["choices"][question.id])]
    page = make_page(**device)
    open_result(live_server, make_app(), page, QUIZ, answer)
    review = page.locator(".to-review .review-list > li").first
    expect(review).to_contain_text('"Beta to 200 households')
    assert "**" not in review.inner_text()
    no_axe_violations(page, "a quiz result with Markdown in To review")


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_broken_plan_rule_is_in_to_review_near_the_top(live_server, make_app, make_page,
                                                         device):
    answer = model_answer(BOARD)
    placements = answer["placements"]
    for card in ("grocer-sync", "shared-planning"):  # five cards in Now: the rule's max is 3
        placements[card] = "now"
    page = make_page(**device)
    attempt = open_result(live_server, make_app(), page, BOARD, answer)
    to_review = page.locator(".to-review")
    rule = to_review.locator(".review-list > li", has_text="No more than 3 cards in Now")
    expect(rule).to_contain_text("Rule broken")
    expect(rule).to_contain_text("0 of 2 points")
    # The summary's count includes it, and the entry leads to the rule itself.
    count = to_review.locator(".review-list > li").count()
    expect(page.get_by_role("heading", name=f"To review ({count})")).to_be_visible()
    expect(page.get_by_role("link", name=f"{count} to review")).to_be_visible()
    no_axe_violations(page, "a plan result with a broken rule in To review")
    rule.get_by_role("link").click()
    expect(page.locator(".rules .rule", has_text="No more than 3 cards in Now")).to_be_in_viewport()
    # Near the top: the rule is reached within the first two screens, not five down.
    page.goto(f"{live_server}/attempts/{attempt}")
    top = rule.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    assert top < 2 * device["viewport"]["height"], f"the broken rule starts {top} px down"
