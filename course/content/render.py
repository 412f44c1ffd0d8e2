"""The one Markdown renderer for every text the site shows: lessons, answers, comments.

Markdown lets authors write raw HTML, so the output always goes through bleach with a
short allow-list: formatting survives, scripts, event handlers and javascript: links never
do. Lesson text is trusted today, but using the same pipeline for everything means there
is only one place to get this right.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import MutableMapping
from functools import partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
    "details", "summary",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "th": ["align"], "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# md_in_html lets a lesson put Markdown inside <details markdown="1">: "Check yourself"
# answers that a learner reveals without JavaScript.
_EXTENSIONS = ["tables", "fenced_code", "sane_lists", "md_in_html"]


def render_markdown(text: str) -> Markup:
    """Markdown to sanitised HTML, safe to put in a template as is."""
    html = _render(text or "")
    return Markup(html)  # nosec B704  # bleach's output: only allowed tags and attributes


def render_lesson(text: str) -> tuple[Markup, dict[str, str]]:
    """A lesson body, its headings given ids so feedback can link to the section that
    teaches a fact; also returns heading id -> heading text for the loader to check links.

    Ids come from the heading text unless the author pins one (`## Title {#my-id}`), and
    a link to an id that no longer exists stops start-up, so renaming a heading cannot
    silently break the links. Only lessons get ids: learners' text never does, so it
    cannot clash with the page's own ids.
    """
    md = markdown.Markdown(extensions=[*_EXTENSIONS, "attr_list", "toc"],
                           output_format="html")
    html = md.convert(text or "")
    anchors: dict[str, str] = {}
    pending = list(getattr(md, "toc_tokens", []))
    while pending:
        token = pending.pop(0)
        anchors[token["id"]] = token["name"]
        pending.extend(token.get("children", []))
    cleaned = _clean(html, _LESSON_ATTRIBUTES)
    return Markup(cleaned), anchors  # nosec B704  # bleach's output, as in render_markdown


_LESSON_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, "h2": ["id"], "h3": ["id"], "h4": ["id"]}


def _render(text: str) -> str:
    html = markdown.markdown(text, extensions=_EXTENSIONS, output_format="html")
    return _clean(html, ALLOWED_ATTRIBUTES)


def _clean(html: str, attributes: dict[str, list[str]]) -> str:
    # Clean and linkify in one pass: a separate bleach.linkify with skip_tags escapes the
    # entities inside <pre>/<code> a second time (`a < b` would show as `a &lt; b`).
    # A Cleaner is not thread-safe, so each call builds its own (as bleach.clean does).
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS, attributes=attributes, protocols=ALLOWED_PROTOCOLS,
        strip=True, strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_nofollow], skip_tags={"pre", "code"})])
    return _accessible_tables(cleaner.clean(html))


_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_HEADER_CELL = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _accessible_tables(html: str) -> str:
    """Each table in a keyboard-scrollable box named after its column headings (a wide
    table scrolls inside it on a phone instead of widening the page), and an empty
    corner header cell made a plain cell: a header with no text names nothing."""

    def wrap(match: re.Match[str]) -> str:
        body = re.sub(r"<th([^>]*)>\s*</th>", r"<td\1></td>", match.group(1))
        headings = [html_lib.unescape(_TAG.sub("", cell)).strip()
                    for cell in _HEADER_CELL.findall(body)[:4]]
        label = html_lib.escape("Table: " + ", ".join(h for h in headings if h), quote=True)
        return (f'<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">'
                f"<table>{body}</table></div>")

    return _TABLE.sub(wrap, html)


def _nofollow(attrs: MutableMapping[tuple[str | None, str], str],
              new: bool = False) -> MutableMapping[tuple[str | None, str], str]:
    """Links written by users must not pass on our reputation or open a window handle."""
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs
