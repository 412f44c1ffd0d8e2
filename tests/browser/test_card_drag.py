"""Cards drag from the whole card, not only from the grip (board.js).

With a mouse a card drags from anywhere but its fields and buttons, and the drag selects
no text on the page. On a touch screen a card held still for a moment drags from anywhere
too, while a swipe across cards still scrolls the page and a tap still selects the card
for tap-to-place. Touches are real touch input sent through Chromium's DevTools protocol
(Playwright's touchscreen can only tap).
"""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Locator = Page = expect = None

from tests.browser.test_exercises_journey import column_list, sign_up

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
WRITTEN = "/exercises/your-own-roadmap"
SORT = "/exercises/roadmap-or-backlog"


def add_written_card(page: Page, column: str, text: str, tap: bool = False) -> Locator:
    add = page.get_by_role("button", name=f"Add card to {column}")
    add.tap() if tap else add.click()
    page.keyboard.type(text)
    card = column_list(page, column).locator("li.text-card").last
    expect(card.locator("textarea")).to_have_value(text)
    return card


def label_point(card: Locator) -> tuple[float, float]:
    """A point on the card's "Card text" label above its field: the card body, not a field."""
    box = card.locator("label:visible").first.bounding_box()
    assert box
    return box["x"] + 20, box["y"] + 5


def centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box
    return box["x"] + box["width"] / 2, box["y"] + min(40, box["height"] / 2)


class Finger:
    """One finger on the touch screen, as real touch input."""

    def __init__(self, page: Page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def _send(self, kind: str, x: float = 0, y: float = 0) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def down(self, x: float, y: float) -> None:
        self._send("touchStart", x, y)

    def move(self, x0: float, y0: float, x1: float, y1: float, steps: int = 8) -> None:
        for n in range(1, steps + 1):
            self._send("touchMove", x0 + (x1 - x0) * n / steps, y0 + (y1 - y0) * n / steps)

    def up(self) -> None:
        self._send("touchEnd")


def test_a_written_card_drags_from_its_body_with_a_mouse_and_selects_no_text(
        live_server, page):
    sign_up(page, live_server, "mouse@example.com")
    page.goto(live_server + WRITTEN)
    card = add_written_card(page, "Now", "Families plan a week of dinners")
    x, y = label_point(card)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(*centre(column_list(page, "Later")), steps=8)
    page.mouse.up()
    expect(column_list(page, "Later").locator("textarea")).to_have_value(
        "Families plan a week of dinners")
    expect(page.locator("#board-status")).to_contain_text("moved to Later")
    assert page.evaluate("window.getSelection().toString()") == ""


def test_a_held_touch_drags_a_card_from_anywhere_a_swipe_scrolls_a_tap_selects(
        live_server, make_page):
    page = make_page(**PHONE)
    sign_up(page, live_server, "finger@example.com")
    finger = Finger(page)

    # A written card, held on its body (not the grip, not its field), dragged to Later.
    page.goto(live_server + WRITTEN)
    card = add_written_card(page, "Now", "Shopping lists people trust", tap=True)
    page.locator("h1").tap()  # put the on-screen keyboard away: leave the field
    card.evaluate("el => el.scrollIntoView({block: 'center'})")
    x, y = label_point(card)
    finger.down(x, y)
    expect(card).to_have_class(re.compile(r"\bis-dragging\b"))  # picked up by the hold
    later = column_list(page, "Later")
    later.evaluate("el => el.closest('.board-column').scrollIntoView({block: 'nearest'})")
    x1, y1 = centre(later)
    finger.move(x, y, x1, y1)
    finger.up()
    expect(later.locator("textarea")).to_have_value("Shopping lists people trust")
    assert page.evaluate("window.getSelection().toString()") == ""

    # A sort card: a quick swipe over it scrolls the page and leaves the card where it is.
    page.goto(live_server + SORT)
    tray = column_list(page, "To place")
    first = tray.locator("li.card").first
    text = first.locator(".card-text").inner_text()
    first.evaluate("el => el.scrollIntoView({block: 'center'})")
    before = page.evaluate("window.scrollY")
    x, y = centre(first.locator(".card-text"))
    finger.down(x, y)
    finger.move(x, y, x, y - 300, steps=10)
    finger.up()
    expect(first).not_to_have_class(re.compile(r"\bis-dragging\b"))
    page.wait_for_function(f"window.scrollY > {before}")
    expect(tray).to_contain_text(text)

    # A tap still selects it for tap-to-place.
    first.locator(".card-text").tap()
    expect(page.get_by_role("group", name="Move the selected card to")).to_be_visible()
    page.get_by_role("group", name="Move the selected card to").get_by_role(
        "button", name=re.compile("^Roadmap")).tap()
    expect(column_list(page, "Roadmap")).to_contain_text(text)
