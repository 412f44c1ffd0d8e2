"""Browser test infrastructure: a live server on the test database and Chromium via Playwright.

Without /usr/bin/chromium (or the playwright package) the tests are skipped with the
reason, except on CI (CI=true), where a missing browser is a failure: CI must not go green
by silently skipping them.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.helpers import missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = f"Chromium not found at {CHROMIUM}: install it with apt-get install chromium"
PLAYWRIGHT_MISSING = ("the playwright package is not importable: install the test extras "
                      "with pip install -e '.[test]'")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
VIEWPORT = {"width": 1280, "height": 800}
HERE = Path(__file__).parent


def missing_requirement() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return PLAYWRIGHT_MISSING
    if not os.access(CHROMIUM, os.X_OK):
        return CHROMIUM_MISSING
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in tests/browser with `browser` (select or deselect with -m)."""
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    reason = missing_requirement()
    if reason is None:
        return
    missing(reason)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` on a free local port for the block; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(make_app) -> Iterator[str]:
    """The app on the test database, served on a free local port; yields the base URL."""
    with serving(make_app()) as url:
        yield url


@pytest.fixture
def serve_app() -> Callable[[Any], Any]:
    """`serving`, for a test that needs the live app built with its own settings."""
    return serving


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = missing_requirement()
    if reason is not None:  # the autouse check reports it; never launch without a browser
        missing(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def make_page(browser) -> Iterator[Callable[..., Any]]:
    """Open pages in fresh contexts (own cookies); `java_script_enabled=False` for no-JS,
    other options (a phone's viewport, has_touch) go to the context."""
    contexts = []

    def factory(java_script_enabled: bool = True, **context_options: Any):
        context = browser.new_context(**{"viewport": VIEWPORT, **context_options},
                                      java_script_enabled=java_script_enabled)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page) -> Any:
    """A page in a fresh browser context (1280x800, JavaScript on)."""
    return make_page()
