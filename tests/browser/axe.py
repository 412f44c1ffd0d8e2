"""axe-core (npm's axe-core, installed by `npm ci`) run inside a Playwright page.

`violations(page)` injects axe.min.js into the page and returns what axe-core finds for
WCAG 2.0, 2.1 and 2.2 at levels A and AA plus axe's best practices, each as one line
naming the rule and the first offending elements.
"""

from __future__ import annotations

from typing import Any

from course.config import REPO_ROOT
from tests.helpers import missing

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing: run `npm ci` in the repository root"
        missing(reason)
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, source: str) -> list[str]:
    """axe-core's violations on the page as it is now (after any interaction)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated over the DevTools protocol, so the page's CSP (script-src 'self')
        # does not stop it and need not be weakened for the test.
        page.evaluate(source)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}).then(r => r.violations.map(v => ({"
        " id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': '"
        " + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 200))})))", TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
            for v in found]
