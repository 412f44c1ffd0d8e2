"""A learner resets a forgotten password through the local mail outbox, changes it,
downloads their data and deletes their account, in a real browser."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Page = expect = None

from tests.helpers import make_user
from tests.review_factories import SORT, sort_form, submit

FORGOTTEN = "a password I no longer remember"
RESET = "violet lantern under the bridge"
CHANGED = "seven quiet herons at dawn"


def _outbox_link(outbox: Path, timeout: float = 10.0) -> str:
    """The reset link in the one message the server wrote to the outbox."""
    import time

    deadline = time.monotonic() + timeout
    while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [file] = outbox.glob("*.eml")
    message = message_from_bytes(file.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.com"
    match = re.search(r"http://\S+/reset-password/\S+", message.get_content())
    assert match, message.get_content()
    return urlsplit(match.group(0)).path  # on PUBLIC_URL's host, not the live server's


def test_reset_change_download_and_delete(live_server: str, make_app, page: Page,
                                          tmp_path: Path) -> None:
    app = make_app()  # the same database the live server uses
    user = make_user(app, "ada@example.com", "Ada Learner", password=FORGOTTEN)
    submit(app, user.id, SORT, sort_form(app, wrong=1))

    # Forgot the password: ask for a link from the sign-in page.
    page.goto(live_server + "/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # The message is in the instance outbox (no MAIL_SERVER configured).
    page.goto(live_server + _outbox_link(tmp_path / "outbox"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_label("Confirm new password").fill("password123")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("alert")).to_contain_text("common")
    page.get_by_label("New password", exact=True).fill(RESET)
    page.get_by_label("Confirm new password").fill(RESET)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    # Sign in with the new password.
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(RESET)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Signed in as Ada Learner")

    # Change it on the account page.
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    page.get_by_label("Current password").fill(RESET)
    page.get_by_label("New password", exact=True).fill(CHANGED)
    page.get_by_label("Confirm new password").fill(CHANGED)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    # Download my data.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(Path(download_info.value.path()).read_text())
    assert data["account"]["email"] == "ada@example.com"
    [attempt] = data["attempts"]
    assert attempt["exercise"] == SORT
    assert attempt["answer"] and attempt["feedback"] and attempt["score"] is not None

    # Delete the account.
    page.get_by_label("Your password").fill(CHANGED)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account and everything")
    expect(page.get_by_role("link", name="Account")).to_have_count(0)

    # The account is gone: signing in with it fails.
    page.goto(live_server + "/signin")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(CHANGED)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
