"""Every page type is valid HTML by the Nu HTML checker (vnu.jar, from npm's vnu-jar) and
has a meta description and the icon.

The pages are rendered by the test client on a filled database (tests/page_catalogue.py)
and checked in one run of the checker, so Java starts once. Without Java or the jar
(`npm ci` in the repository root installs it) the test skips with the reason; under
CI=true that is a failure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from course.config import REPO_ROOT
from course.site import get_course
from tests import page_catalogue
from tests.helpers import missing

VNU = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')
ICON = '<link rel="icon" href="/static/favicon.svg?v='


def _checker() -> list[str]:
    java = shutil.which("java")
    reason = ("java is not installed (apt-get install default-jre-headless)" if not java
              else None if VNU.exists() else
              f"{VNU} is missing: run `npm ci` in the repository root")
    if reason:
        missing(reason)
    return [str(java), "-Xss2m", "-jar", str(VNU)]


def test_catalogue_covers_every_route(app) -> None:
    with app.app_context():
        every_attempt = {e.id: 1 for e in get_course().exercises}
    visits = page_catalogue.visits(app, page_catalogue.Filled("", every_attempt))
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = routes - {v.endpoint for v in visits} - page_catalogue.NOT_PAGES
    assert not missing, f"add a visit for these pages to tests/page_catalogue.py: {missing}"


@pytest.mark.checker
def test_every_page_type_is_valid_html(app, tmp_path: Path) -> None:
    checker = _checker()
    filled = page_catalogue.fill(app)
    pages: dict[str, page_catalogue.Visit] = {}
    unlabelled = []
    for n, (visit, html) in enumerate(page_catalogue.fetch_all(
            app, filled, page_catalogue.visits(app, filled))):
        descriptions = DESCRIPTION.findall(html)
        if len(descriptions) != 1 or not descriptions[0].strip() or ICON not in html:
            unlabelled.append(f"{visit.role} {visit.name}: {descriptions}")
        name = f"page{n:03}.html"
        (tmp_path / name).write_text(html, encoding="utf-8")
        pages[name] = visit
    run = subprocess.run([*checker, "--format", "json", "--stdout",
                          *(str(tmp_path / name) for name in pages)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert not unlabelled, f"pages without one meta description or the icon: {unlabelled}"
    errors: dict[str, list[str]] = {}
    for m in json.loads(run.stdout)["messages"]:
        if m["type"] == "info":
            continue
        visit = pages.get(m.get("url", "").rsplit("/", 1)[-1])
        where = f"{visit.role} {visit.name} ({visit.url})" if visit else m.get("url", "")
        errors.setdefault(m["message"], []).append(
            f"  {where} line {m.get('lastLine')}: {m.get('extract', '').strip()[:100]!r}")
    assert not errors, "\n".join(f"{message}\n" + "\n".join(places[:3])
                                  + (f"\n  ... {len(places) - 3} more" if len(places) > 3 else "")
                                  for message, places in errors.items())
