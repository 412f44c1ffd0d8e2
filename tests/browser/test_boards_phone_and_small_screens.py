"""axe-core after board interactions, desktop boards no longer than the plain form, and
pages that must not scroll sideways at 320 px or at 400 % zoom (1280 px / 4 = 320 x 200
CSS px). Tapping boards on a touch phone is part of the phone journey in
test_loop_journey.py."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

from tests import page_catalogue
from tests.browser.axe import axe_source, violations
from tests.browser.test_axe import sign_in
from tests.helpers import PASSWORD, make_user


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
                f"/instructor/submissions/{attempt}", "/instructor/misconceptions",
                "/instructor/activity", "/instructor/activity?weeks=12", "/progress"):
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
