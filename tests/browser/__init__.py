"""Browser tests: a real Chromium driven through Playwright against a live server."""
