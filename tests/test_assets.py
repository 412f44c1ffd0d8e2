"""Static files carry their content hash and are cached for a year; responses are
compressed; /favicon.ico leads to the icon the pages link to."""

from __future__ import annotations

import gzip
import re

import brotli

from course import assets

HASHED = re.compile(r'href="/static/style\.css\?v=([0-9a-f]{12})"')


def test_pages_link_static_files_by_content_hash(client, app) -> None:
    html = client.get("/").get_data(as_text=True)
    version = HASHED.search(html).group(1)
    with app.test_request_context():
        assert version == assets.static_version("style.css")
    assert 'src="/static/board.js?v=' in client.get(
        "/exercises/roadmap-or-backlog").get_data(as_text=True)


def test_hashed_static_urls_are_cached_for_a_year_others_are_not(client) -> None:
    version = HASHED.search(client.get("/").get_data(as_text=True)).group(1)
    with client.get(f"/static/style.css?v={version}") as hashed:
        assert hashed.status_code == 200
        assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for url in ("/static/style.css", "/static/style.css?v=000000000000"):
        with client.get(url) as other:
            assert "immutable" not in other.headers.get("Cache-Control", ""), url


def test_a_changed_file_gets_a_new_url_where_templates_reload(app, tmp_path) -> None:
    app.static_folder = str(tmp_path)
    app.jinja_env.auto_reload = True  # as in debug
    (tmp_path / "x.css").write_text("a {}")
    with app.test_request_context():
        first = assets.static_version("x.css")
        assert assets.static_url("x.css") == f"/static/x.css?v={first}"
        (tmp_path / "x.css").write_text("b { color: red }")
        second = assets.static_version("x.css")
        assert second != first
        assert assets.static_url("x.css") == f"/static/x.css?v={second}"  # not the remembered one
        assert assets.static_version("../secret") is None
        assert assets.static_version("missing.css") is None


def test_elsewhere_pages_keep_the_files_they_started_with(app, tmp_path) -> None:
    """As the templates: the URL is worked out once, and a new deployment's files get
    their new URLs with the restart that loads its templates."""
    app.static_folder = str(tmp_path)
    app.jinja_env.auto_reload = False
    (tmp_path / "x.css").write_text("a {}")
    with app.test_request_context():
        first = assets.static_version("x.css")
        assert assets.static_url("x.css") == f"/static/x.css?v={first}"
        (tmp_path / "x.css").write_text("b { color: red }")
        assert assets.static_url("x.css") == f"/static/x.css?v={first}"


def test_html_css_and_javascript_are_compressed(client) -> None:
    for url in ("/", "/static/style.css", "/static/board.js"):
        for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            with client.get(url, headers={"Accept-Encoding": encoding}) as response:
                assert response.headers.get("Content-Encoding") == encoding, url
                assert "Accept-Encoding" in response.headers["Vary"]
                packed = response.get_data()
            with client.get(url) as response:
                plain = response.get_data()
            assert decompress(packed) == plain
            assert len(packed) < len(plain) / 2, url


def test_favicon_ico_redirects_to_the_linked_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    with client.get(response.headers["Location"]) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
