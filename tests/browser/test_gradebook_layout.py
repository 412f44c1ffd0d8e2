"""The gradebook at 1366 x 900, as an instructor with a full cohort sees it: the page never
scrolls sideways, the table scrolls inside its box with the learner column and the
header row staying in view, headings take at most three lines, and sorting by a heading
works without JavaScript and keeps all of that (axe-core clean)."""

from __future__ import annotations

import re

from tests import page_catalogue
from tests.browser.axe import axe_source, violations
from tests.browser.test_axe import sign_in
from tests.helpers import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

DESKTOP = {"width": 1366, "height": 900}

# The number of line boxes of each heading's text (a Range over the text gives one
# rectangle per line), and where the sticky parts sit relative to the scrolling box.
_HEADING_LINES = """() => [...document.querySelectorAll('.gradebook thead .sort-link')]
.map(link => {
  const range = document.createRange();
  range.selectNodeContents(link.firstChild);
  return [link.firstChild.textContent.trim(),
          new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
})"""
_POSITIONS = """() => {
  const box = document.querySelector('.gradebook-wrap').getBoundingClientRect();
  const learner = document.querySelector('.gradebook tbody th.sticky-col').getBoundingClientRect();
  const heading = document.querySelector('.gradebook thead th.num').getBoundingClientRect();
  const cell = document.querySelector('.gradebook tbody td').getBoundingClientRect();
  return {boxLeft: box.left, boxTop: box.top, learnerLeft: learner.left,
          headingTop: heading.top, cellLeft: cell.left};
}"""


def _check_layout(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    wrap = page.locator(".gradebook-wrap")
    wide, shown = wrap.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert wide > shown, "the table should be wider than its box at 1366 px, or this " \
                         "test shows nothing"
    lines = dict(page.evaluate(_HEADING_LINES))
    assert max(lines.values()) <= 3, lines
    before = page.evaluate(_POSITIONS)
    wrap.evaluate("box => { box.scrollLeft = 600; box.scrollTop = 400; }")
    after = page.evaluate(_POSITIONS)
    # Scrolled inside the box: the learner column and the header row stay put...
    assert abs(after["learnerLeft"] - after["boxLeft"]) <= 2, after
    assert abs(after["headingTop"] - after["boxTop"]) <= 2, after
    # ...while the scores moved under them.
    assert after["cellLeft"] < before["cellLeft"] - 500, (before, after)


def test_the_gradebook_fits_1366_px_with_sticky_learners_and_headings(make_app, make_page,
                                                                      serve_app):
    app = make_app()
    page_catalogue.fill(app)
    source = axe_source()
    with serve_app(app) as base:
        for script in (True, False):
            page = make_page(java_script_enabled=script, viewport=DESKTOP)
            sign_in(page, base, page_catalogue.INSTRUCTOR, PASSWORD)
            page.goto(f"{base}/instructor/gradebook")
            _check_layout(page)
            # Sort by the total, highest first: two activations of its heading link.
            page.get_by_role("link", name=re.compile(r"^Total\W+sort ascending$")).click()
            page.get_by_role("link", name=re.compile(r"^Total\W+sort descending$")).click()
            heading = page.locator("th[aria-sort]")
            expect(heading).to_have_attribute("aria-sort", "descending")
            expect(heading).to_contain_text("Total")
            totals = [float(t.rstrip("%")) for t in page.locator(
                ".gradebook tbody td:nth-last-child(2)").all_inner_texts()]
            assert totals == sorted(totals, reverse=True) and len(totals) > 3
            page.goto(page.url)  # the layout is the same sorted (fresh scroll position)
            _check_layout(page)
            if script:
                assert not violations(page, source), "the sorted gradebook"
