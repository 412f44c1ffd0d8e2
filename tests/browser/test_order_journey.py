"""The order exercise in a real browser: Move up / Move down and "Doesn't belong",
announced in the live region, then graded."""

from __future__ import annotations

import itertools
import re

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from tests.browser.test_exercises_journey import sign_up
from tests.browser.test_loop_journey import no_axe_violations
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


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_order_is_a_numbered_vertical_list_with_labelled_ends(live_server, make_page,
                                                                  device):
    page = make_page(**device)
    sign_up(page, live_server, "numbers@example.com")
    page.goto(f"{live_server}/exercises/{ORDER.id}")
    in_order = page.locator(".order-list > li")
    slots = ORDER.spec.slots
    # One column, top to bottom, whatever the width: Move up means up on the screen.
    boxes = [in_order.nth(i).bounding_box() for i in range(in_order.count())]
    assert len({round(b["x"]) for b in boxes}) == 1, "the items are not in one column"
    assert all(a["y"] + a["height"] <= b["y"] for a, b in itertools.pairwise(boxes))
    # Each place shows its number, and the two ends say what they stand for.
    for i in range(slots):
        expect(in_order.nth(i).locator(".order-rank")).to_contain_text(str(i + 1))
    expect(in_order.nth(0).locator(".order-rank")).to_contain_text(ORDER.spec.first_label)
    expect(in_order.nth(slots - 1).locator(".order-rank")).to_contain_text(
        ORDER.spec.last_label)
    for i in range(slots, in_order.count()):  # more items than places: no number yet
        expect(in_order.nth(i).locator(".order-rank")).to_contain_text("No position")
    # Numbers follow the item as it moves.
    first = in_order.nth(0)
    item_id = first.get_attribute("data-item")
    first.get_by_role("button", name=re.compile("^Move down")).click()
    moved = page.locator(f'.order-list > li[data-item="{item_id}"]')
    expect(moved.locator(".order-rank")).to_contain_text("2")
    expect(page.locator("#order-status")).to_contain_text("is now at position 2")
    no_axe_violations(page, "the numbered order after a move")


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_result_says_how_partial_credit_was_counted(live_server, make_page, device):
    page = make_page(java_script_enabled=False, **device)
    sign_up(page, live_server, "credit@example.com")
    page.goto(f"{live_server}/exercises/{ORDER.id}")
    # The first two swapped: the third item stays in its right place, with only the item
    # after it right.
    swap = {ORDER.spec.ordered[0].id: "2", ORDER.spec.ordered[1].id: "1"}
    for item in ORDER.spec.items:
        value = swap.get(item.id, str(item.position) if item.position else "out")
        page.locator(f"#pos-{item.id}").select_option(value)
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="How your order was scored")).to_be_visible()
    third = page.locator(f"#item-{ORDER.spec.ordered[2].id}")
    expect(third).to_contain_text("Partly right")
    expect(third).to_contain_text("Half credit: the item below it is the right one; "
                                  "the item above it is not.")
    # axe needs JavaScript: the same result, in a JavaScript page with the same session.
    checked = make_page(**device)
    checked.context.add_cookies(page.context.cookies())
    checked.goto(page.url)
    no_axe_violations(checked, "an order result with partial credit explained")
