"""The Markdown renderer: formatting survives, anything that could run script never does."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from course.content.render import render_markdown

DANGEROUS = [
    ("<script>alert(1)</script>", ["<script"]),
    ("Text <SCRIPT SRC=//evil.example/x.js></SCRIPT>", ["<script"]),
    ('<img src="x" onerror="alert(1)">', ["onerror", "<img"]),
    ('<a href="https://example.org" onclick="alert(1)">x</a>', ["onclick"]),
    ('<p onmouseover="alert(1)">hover</p>', ["onmouseover"]),
    ("[click](javascript:alert(1))", ["javascript:"]),
    ("[click](JaVaScRiPt:alert(1))", ["javascript:"]),
    ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
    ('<a href="  javascript:alert(1)">x</a>', ["javascript:"]),
    ('<a href="jav&#x09;ascript:alert(1)">x</a>', ["javascript:", "ascript:"]),
    ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", ["data:"]),
    ('<iframe src="https://evil.example"></iframe>', ["<iframe"]),
    ('<p style="background:url(javascript:alert(1))">styled</p>', ["style=", "javascript:"]),
    ('<span style="color:red">red</span>', ["style="]),
    ('<object data="x.swf"></object><embed src="x.swf">', ["<object", "<embed"]),
    ('<svg onload="alert(1)"><circle/></svg>', ["<svg", "onload"]),
    ('<form action="https://evil.example"><input name="x"></form>', ["<form", "<input"]),
    ("<style>body{display:none}</style>", ["<style"]),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', ["<meta"]),
    ("<!-- <script>alert(1)</script> -->", ["<script", "<!--"]),
    ("![img](https://example.org/x.png)", ["<img"]),
]


@pytest.mark.parametrize("source,forbidden", DANGEROUS, ids=[d[0][:40] for d in DANGEROUS])
def test_dangerous_markup_never_reaches_output(source: str, forbidden: list[str]) -> None:
    html = str(render_markdown(source)).lower()
    for needle in forbidden:
        assert needle.lower() not in html, html


def test_output_is_markup_safe_for_templates() -> None:
    assert isinstance(render_markdown("plain"), Markup)
    assert render_markdown(None) == Markup("")
    assert render_markdown("") == Markup("")


def test_text_of_stripped_tags_is_kept_but_escaped() -> None:
    html = str(render_markdown("Before <script>alert(1)</script> after"))
    assert "Before" in html and "after" in html
    assert "<script" not in html


def test_bold_italic_code_survive() -> None:
    html = str(render_markdown("**bold** and *italic* and `code`"))
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<code>code</code>" in html


def test_lists_survive() -> None:
    html = str(render_markdown("- one\n- two\n\n1. first\n2. second\n"))
    assert "<ul>" in html and "<ol>" in html
    assert "<li>one</li>" in html and "<li>second</li>" in html


def test_tables_survive() -> None:
    html = str(render_markdown("| Tool | Horizon |\n| --- | --- |\n| Roadmap | Months |\n"))
    assert "<table>" in html
    assert "<th>Tool</th>" in html
    assert "<td>Roadmap</td>" in html


def test_headings_quotes_and_fenced_code_survive() -> None:
    html = str(render_markdown("## Heading\n\n> quoted\n\n```\n<b>raw</b>\n```\n"))
    assert "<h2>Heading</h2>" in html
    assert "<blockquote>" in html
    assert "<pre><code>&lt;b&gt;raw&lt;/b&gt;" in html


def test_https_links_survive_with_nofollow() -> None:
    html = str(render_markdown("[Mind the Product](https://www.mindtheproduct.com/)"))
    assert 'href="https://www.mindtheproduct.com/"' in html
    assert ">Mind the Product</a>" in html
    assert 'rel="nofollow noopener"' in html


def test_mailto_links_survive() -> None:
    html = str(render_markdown("[mail](mailto:team@example.org)"))
    assert 'href="mailto:team@example.org"' in html


def test_bare_urls_are_linkified_but_not_inside_code() -> None:
    html = str(render_markdown("See https://example.org and `https://example.com`"))
    assert 'href="https://example.org"' in html
    assert 'href="https://example.com"' not in html


def test_plain_text_is_escaped() -> None:
    html = str(render_markdown("Fish & chips < 5 > 3"))
    assert "&amp;" in html and "&lt;" in html


def test_code_is_escaped_exactly_once() -> None:
    """Regression: linkifying in a second pass double-escaped entities inside code."""
    html = str(render_markdown("Inline `a < b && c`\n\n```\n<b>x</b> https://example.org\n```"))
    assert "<code>a &lt; b &amp;&amp; c</code>" in html
    assert "&amp;lt;" not in html
    assert "<pre><code>&lt;b&gt;x&lt;/b&gt; https://example.org" in html  # not linkified


def test_link_text_with_ampersand_is_escaped_once() -> None:
    html = str(render_markdown("[Fish & chips](https://example.org)"))
    assert ">Fish &amp; chips</a>" in html


def test_details_reveal_markdown_answers_without_script():
    html = str(render_markdown(
        '<details markdown="1">\n<summary>Who orders the backlog?</summary>\n\n'
        'The **product manager**. <script>alert(1)</script>\n\n</details>'))
    assert "<details>" in html and "<summary>Who orders the backlog?</summary>" in html
    assert "<strong>product manager</strong>" in html
    assert "<script>" not in html and 'markdown="1"' not in html
