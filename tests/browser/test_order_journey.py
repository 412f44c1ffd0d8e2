"""The order exercise in a real browser: Move up / Move down and "Doesn't belong",
announced in the live region, then graded."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from tests.browser.test_exercises_journey import sign_up
from tests.helpers import course_at

ORDER = course_at().exercise("order-the-tools")


def test_order_by_buttons_only_with_announcements(live_server: str, page: Page) -> None:
    sign_up(page, live_server, "orderer@example.com")
    page.goto(f"{live_server}/exercises/{ORDER.id}")
    status = page.locator("#order-status")
    in_order = page.locator(".order-list > li")
    for item in ORDER.spec.items:
        if item.position is None:
            page.get_by_role("button", name=f"Doesn't belong \u201c{item.text}\u201d").click()
            expect(status).to_contain_text("is in Doesn't belong")
    # Bring each item up to its place, first to last, with the keyboard-operable buttons.
    for item in ORDER.spec.ordered:
        up = page.get_by_role("button", name=f"Move up \u201c{item.text}\u201d")
        pressed = False
        while in_order.nth(item.position - 1).get_attribute("data-item") != item.id:
            up.focus()
            page.keyboard.press("Enter")
            pressed = True
        if pressed:  # focus stays on the item (on Move down once Move up is disabled)
            focused = page.evaluate("document.activeElement.closest('li').dataset.item")
            assert focused == item.id
    expect(status).to_contain_text(re.compile(r"is now at position \d of 5|is in"))
    expect(page.locator(".order-count")).to_contain_text("Every position is filled")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator(".score")).to_have_text("100%")
