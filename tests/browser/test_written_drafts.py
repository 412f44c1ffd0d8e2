"""A written answer survives a reload: drafts.js keeps it in the browser, puts it back with
a notice the learner can undo (read out by screen readers), asks before the page is left
with unsaved text but not on submitting, and forgets it once it is saved as an attempt.
A refused answer stays a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    expect = None

from tests.browser.axe import axe_source, violations
from tests.browser.test_answer_controls import PHONE, open_as_learner

WRITTEN = "/exercises/write-a-product-vision"
VISION = "Forkcast: a calm family dinner on every weeknight, planned in minutes."
DRAFTS = ("() => Object.keys(localStorage)"
          ".filter(k => k.startsWith('course-draft:')"
          " && k.includes('/write-a-product-vision:'))"
          ".map(k => JSON.parse(localStorage.getItem(k)))")


def wait_for_drafts(page, count: int) -> list[dict]:
    """The kept drafts once there are `count` (drafts.js saves a moment after typing; the
    page's CSP forbids the string predicates wait_for_function would evaluate)."""
    for _ in range(50):
        drafts = page.evaluate(DRAFTS)
        if len(drafts) == count:
            return drafts
        page.wait_for_timeout(100)
    raise AssertionError(f"{count} drafts expected, found {drafts}")


def watch(page, leave: bool) -> tuple[list[str], list[str]]:
    """The dialogs the page raises (the learner leaves if `leave`, else stays), and the
    script errors and Content-Security-Policy refusals it reports."""
    dialogs: list[str] = []
    errors: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        if leave:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    return dialogs, errors


def test_a_reload_puts_back_the_draft_with_a_notice_that_can_discard_it(live_server,
                                                                        make_app, make_page):
    page = open_as_learner(live_server, make_app, make_page, WRITTEN, **PHONE)
    dialogs, errors = watch(page, leave=True)
    vision = page.get_by_label("Your vision statement")
    vision.fill(VISION)
    wait_for_drafts(page, 1)
    page.reload()
    assert dialogs == ["beforeunload"], "the reload did not ask first"
    dialogs.clear()

    expect(vision).to_have_value(VISION)
    status = page.get_by_role("status").filter(has_text="Restored your unsaved draft from")
    expect(status).to_be_visible()
    saved = datetime.fromisoformat(status.locator("time").get_attribute("datetime"))
    assert abs(datetime.now(UTC) - saved) < timedelta(minutes=5), saved
    assert not violations(page, axe_source()), "the restored-draft notice"

    page.get_by_role("button", name="Discard").tap()
    expect(vision).to_have_value("")
    expect(vision).to_be_focused()
    expect(page.locator(".draft-status")).to_contain_text("Draft discarded")
    assert page.evaluate(DRAFTS) == []
    page.reload()
    expect(vision).to_have_value("")
    expect(page.locator(".draft-status")).to_be_empty()
    assert not errors, errors
    assert dialogs == [], "nothing was unsaved, yet leaving asked"


def test_leaving_asks_first_submitting_does_not_and_a_saved_answer_drops_its_draft(
        live_server, make_app, make_page):
    page = open_as_learner(live_server, make_app, make_page, WRITTEN)
    dialogs, errors = watch(page, leave=False)
    page.get_by_label("Your vision statement").fill(VISION)
    page.get_by_role("navigation", name="Course navigation").get_by_role("link").last.click()
    expect(page.get_by_label("Your vision statement")).to_have_value(VISION)
    assert dialogs == ["beforeunload"] and page.url.endswith(WRITTEN), "it left without asking"
    dialogs.clear()

    # Refused (the second prompt is empty): the text is still only a draft.
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="Your answer was not submitted")).to_be_visible()
    assert [d.get("submittedWith") for d in wait_for_drafts(page, 1)] == [None]
    page.goto(live_server + WRITTEN)
    expect(page.get_by_label("Your vision statement")).to_have_value(VISION)
    expect(page.locator(".draft-status")).to_contain_text("Restored your unsaved draft")

    page.get_by_label("Three strategy choices").fill("- Families first\n- Pantry\n- Speed")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="Check your work against the rubric")).to_be_visible()
    wait_for_drafts(page, 0)
    assert dialogs == [], "submitting asked before leaving"
    assert not errors, errors


def test_without_javascript_the_written_answer_is_submitted_as_before(live_server, make_app,
                                                                      make_page):
    page = open_as_learner(live_server, make_app, make_page, WRITTEN,
                           java_script_enabled=False)
    expect(page.locator(".draft-status")).to_be_empty()
    page.get_by_label("Your vision statement").fill(VISION)
    page.get_by_label("Three strategy choices").fill("- Families first\n- Pantry\n- Speed")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="Check your work against the rubric")).to_be_visible()
