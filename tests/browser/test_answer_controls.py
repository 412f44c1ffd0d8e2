"""Answer choices on a phone, at 320 px and on a desktop: every quiz option and every
self-assessment level is a full-width tile that is its own label, with a control of at
least 24 x 24 px (WCAG 2.5.8) however long its text, the text in one column beside it,
focus shown on the tile, also in forced-colours mode."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

from course.site import get_course
from tests.browser.test_axe import sign_in
from tests.helpers import PASSWORD, make_user
from tests.review_factories import submit

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
NARROW = {"viewport": {"width": 320, "height": 640}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
SCREENS = {"phone": PHONE, "320 px": NARROW, "desktop": DESKTOP}

# For each control: its box, its label's box, its list's (or field's) box, and the left edge of each
# line of the label's text (lines told apart by their top).
MEASURE = """selector => Array.from(document.querySelectorAll(selector)).map(input => {
  const box = el => { const b = el.getBoundingClientRect();
    return {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width,
            height: b.height}; };
  const label = input.closest('label');
  const range = document.createRange();
  range.selectNodeContents(label);
  range.setStartAfter(input);
  const lines = {};
  for (const r of range.getClientRects()) {
    if (r.width < 1) continue;
    const line = Math.round(r.top + r.height / 2);
    const near = Object.keys(lines).find(top => Math.abs(top - line) < 4);
    const key = near === undefined ? line : near;
    lines[key] = Math.min(lines[key] ?? Infinity, r.left);
  }
  return {text: label.textContent.trim().slice(0, 50), control: box(input), tile: box(label),
          list: box(input.closest('ul, .field')), lines: Object.values(lines)};
})"""


def assert_tiles(page, selector: str, where: str) -> None:
    found = page.evaluate(MEASURE, selector)
    assert found, f"no controls match {selector} ({where})"
    wrapped = 0
    for choice in found:
        control, tile, listed = choice["control"], choice["tile"], choice["list"]
        what = f"{where}: “{choice['text']}…”"
        assert control["width"] >= 24 and control["height"] >= 24, (what, control)
        assert tile["width"] >= listed["width"] - 1, f"{what}: the tile is not full width"
        assert (tile["left"] <= control["left"] and control["right"] <= tile["right"]
                and tile["top"] <= control["top"] and control["bottom"] <= tile["bottom"]), \
            f"{what}: the control is outside its tile"
        starts = choice["lines"]
        assert max(starts) - min(starts) < 2, f"{what}: the text is in columns {starts}"
        assert min(starts) >= control["right"], f"{what}: the text runs under the control"
        wrapped += len(starts) > 1
    if page.viewport_size["width"] < 800:  # on a desktop a quiz option fits one line
        assert wrapped, f"{where}: no choice wraps, so long text is not tried"
    assert page.evaluate("document.documentElement.scrollWidth") <= \
        page.viewport_size["width"], f"{where}: the page scrolls sideways"


def assert_focus_on_tile(page, control, where: str) -> None:
    """Focus the control from the keyboard: its whole tile shows it."""
    control.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(control).to_be_focused()
    outline = control.evaluate("el => { const s = getComputedStyle(el.closest('label'));"
                               " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert outline[0] != "none" and outline[1] >= 2, f"{where}: no focus on the tile {outline}"


def open_as_learner(live_server: str, make_app, make_page, path: str, **context):
    """A new learner, signed in, on `path`, in a browser context with `context`."""
    make_user(make_app())
    page = make_page(**context)
    sign_in(page, live_server, "learner@example.com", PASSWORD)
    page.goto(live_server + path)
    return page


@pytest.mark.parametrize("screen", SCREENS)
def test_quiz_options_are_full_width_tiles_with_24_px_controls(live_server, make_app,
                                                               make_page, screen):
    page = open_as_learner(live_server, make_app, make_page, "/exercises/final-quiz",
                           **SCREENS[screen])
    assert_tiles(page, ".questions .options input", f"quiz, {screen}")

    # The whole tile is the label: a tap (or click) at its far edge, away from the control,
    # chooses it; a checkbox's tile is the same.
    tile = page.locator(".questions .options label").nth(1)
    box = tile.bounding_box()
    position = {"x": box["width"] - 6, "y": box["height"] - 6}
    if screen == "desktop":
        tile.click(position=position)
    else:
        tile.tap(position=position)
    expect(tile.locator("input")).to_be_checked()
    checkbox = page.locator(".questions .options input[type=checkbox]").first
    assert_focus_on_tile(page, checkbox, f"quiz, {screen}")
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()

    page.emulate_media(forced_colors="active")
    border = checkbox.evaluate("el => { const s = getComputedStyle(el.closest('label'));"
                               " return [s.borderTopStyle, parseFloat(s.borderTopWidth)]; }")
    assert border[0] == "solid" and border[1] >= 1, f"forced colours: no tile edge {border}"
    assert_focus_on_tile(page, checkbox, f"quiz in forced colours, {screen}")
    assert_tiles(page, ".questions .options input", f"quiz in forced colours, {screen}")


@pytest.mark.parametrize("screen", SCREENS)
def test_self_assessment_levels_are_full_width_tiles_in_one_column(live_server, make_app,
                                                                   make_page, screen):
    page = open_as_learner(live_server, make_app, make_page,
                           "/exercises/write-a-product-vision", **SCREENS[screen])
    page.get_by_label("Your vision statement").fill("Forkcast: a calm dinner, every weeknight.")
    page.get_by_label("Three strategy choices").fill("- Families first\n- Pantry\n- Speed")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="Check your work against the rubric")).to_be_visible()
    selector = ".self-assessment-form input[type=radio]"
    assert_tiles(page, selector, f"self-assessment, {screen}")

    first = page.locator(selector).first
    assert_focus_on_tile(page, first, f"self-assessment, {screen}")
    page.locator(".self-assessment-form .criterion").first.locator("label").nth(1).click()
    page.get_by_role("button", name="Save my assessment").click()
    expect(page.get_by_text("Your self-assessment was not saved")).to_be_visible()
    assert_tiles(page, selector, f"self-assessment refused, {screen}")


def test_the_last_attempt_confirmation_is_a_tile_too(live_server, make_app, make_page):
    app = make_app()
    learner = make_user(app)
    with app.app_context():
        quiz = get_course().exercise("roadmap-or-delivery-plan")
        answer = {f"q-{q.id}": [q.options[0].id] for q in quiz.spec.questions}
    for _ in range(quiz.policy.max_attempts - 1):
        submit(app, learner.id, quiz.id, answer)
    page = make_page(**NARROW)
    sign_in(page, live_server, "learner@example.com", PASSWORD)
    page.goto(f"{live_server}/exercises/{quiz.id}")
    assert_tiles(page, "#confirm_last", "last-attempt confirmation, 320 px")
    page.get_by_text("I understand this is my last attempt").tap()
    expect(page.locator("#confirm_last")).to_be_checked()
