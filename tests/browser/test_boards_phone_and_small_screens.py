"""Boards on a touch phone (tap a card, then a column; the targets stay in view), axe-core
after board interactions, and pages that must not scroll sideways at 320 px or at 400 %
zoom (1280 px / 4 = 320 x 200 CSS px)."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from course.config import REPO_ROOT
from course.content.loader import load_course
from course.grading import registry
from tests import page_catalogue
from tests.browser.axe import axe_source, violations
from tests.browser.test_axe import sign_in
from tests.helpers import PASSWORD, make_user

COURSE = load_course(REPO_ROOT)
SORT = COURSE.exercise("roadmap-or-backlog")
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def test_sort_by_tapping_on_a_phone(live_server, make_app, make_page):
    make_user(make_app())
    page = make_page(**PHONE)
    sign_in(page, live_server, "learner@example.com", PASSWORD)
    page.goto(f"{live_server}/exercises/{SORT.id}")
    expect(page.get_by_text("Tap a card, then tap where it goes.")).to_be_visible()
    expect(page.get_by_text("Press Space to pick up")).to_be_hidden()

    answer = registry.model_answer(SORT)["placements"]
    label = {b.id: b.label for b in SORT.spec.buckets}
    targets = page.get_by_role("group", name="Move the selected card to")
    for n, item in enumerate(SORT.spec.items, start=1):
        card = page.locator(".board-list > li").filter(has_text=item.text)
        card.locator(".card-text").tap()
        expect(card).to_have_accessible_name(f"{item.text} Selected")
        expect(targets).to_be_visible()
        box = targets.bounding_box()
        assert box and box["y"] + box["height"] <= 844, "the targets are below the fold"
        button = targets.get_by_role("button", name=label[answer[item.id]])
        assert button.bounding_box()["height"] >= 44
        button.tap()
        expect(page.locator("#board-status")).to_contain_text(
            f"moved to {label[answer[item.id]]}. {n} of {len(SORT.spec.items)} placed.")
        expect(targets).to_be_hidden()
    for move in page.locator(".card-move").all():
        assert move.bounding_box()["height"] >= 44
    assert not violations(page, axe_source())
    page.get_by_role("button", name="Submit answer").tap()
    expect(page.locator(".score")).to_have_text("100%")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_no_axe_violations_after_board_interactions(live_server, make_app, page):
    make_user(make_app())
    source = axe_source()
    sign_in(page, live_server, "learner@example.com", PASSWORD)
    page.goto(f"{live_server}/exercises/build-now-next-later")
    first = page.locator(".board-tray .board-list > li").first
    first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    assert not violations(page, source), "a card picked up"
    page.keyboard.press("Space")
    page.locator(".board-tray .board-list > li").first.locator(".card-text").click()
    assert not violations(page, source), "a card selected, targets shown"
    page.get_by_role("group", name="Move the selected card to").get_by_role(
        "button", name="Later").click()
    page.locator(".card-move").first.click()
    assert not violations(page, source), "the Move to menu open"
    page.goto(f"{live_server}/exercises/your-own-roadmap")
    page.get_by_role("button", name="Add card to Now").click()
    page.keyboard.type("Plan a week of dinners in ten minutes")
    assert not violations(page, source), "a written card added"


@pytest.mark.parametrize("width, height", [(320, 640), (320, 200)])
def test_no_sideways_scrolling_at_320_px_or_400_percent_zoom(live_server, make_app, make_page,
                                                             width, height):
    filled = page_catalogue.fill(make_app())
    page = make_page(viewport={"width": width, "height": height})
    sign_in(page, live_server, page_catalogue.INSTRUCTOR, PASSWORD)
    attempt = next(iter(filled.attempts_by_exercise.values()))
    for url in ("/instructor/", "/instructor/gradebook", "/instructor/submissions",
                f"/instructor/submissions/{attempt}", "/instructor/misconceptions", "/progress"):
        page.goto(live_server + url)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{url} is {wide} px wide at {width} px"


@pytest.mark.parametrize("exercise_id", ["roadmap-or-backlog", "build-now-next-later"])
def test_a_desktop_board_is_no_longer_than_the_plain_form(live_server, make_page,
                                                          exercise_id):
    """At 1366 x 900 the columns sit beside the tray, so the enhanced page is no taller
    than the same page without JavaScript (radio buttons under each card)."""
    heights = {}
    for script in (True, False):
        page = make_page(viewport={"width": 1366, "height": 900}, java_script_enabled=script)
        page.goto(f"{live_server}/exercises/{exercise_id}")
        if script:
            expect(page.locator(".board-enhanced")).to_be_visible()
        heights[script] = page.evaluate("document.documentElement.scrollHeight")
    assert heights[True] <= heights[False], heights
