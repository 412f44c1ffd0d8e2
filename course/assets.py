"""Light pages: static URLs that carry a content hash, a year-long cache for them, the
favicon, and compressed responses.

Every `url_for('static', ...)` gets `?v=<hash of the file>`: a browser may then keep the
file for a year without asking again, and still fetches the new file the moment its
content (so its URL) changes. A static request without the current hash gets the
ordinary short cache, so an old page never pins a stale file for a year.

Compression is Flask-Compress (maintained, small, one after-request hook): HTML, CSS,
JavaScript, SVG and JSON go out as zstd, Brotli or gzip, whichever the browser accepts.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from flask import Flask, current_app, redirect, request, url_for
from flask_compress import Compress
from werkzeug.wrappers import Response

from course.site import remembered_url

YEAR = 365 * 24 * 3600
COMPRESSED = ["text/html", "text/css", "text/javascript", "application/javascript",
              "image/svg+xml", "application/json"]
compress = Compress()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    compress.init_app(app)
    app.url_defaults(_version_static_urls)
    app.jinja_env.globals["static_url"] = static_url
    app.after_request(_static_response)  # runs before Flask-Compress's hook (reverse order)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)


def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        version = static_version(values["filename"])
        if version:
            values.setdefault("v", version)


def static_url(filename: str) -> str:
    """The file's URL with its current hash.

    Where templates are reloaded when they change (debug), the hash is worked out again
    on each page. Elsewhere the app serves the templates it started with, so it serves the
    files it started with too: the URL is remembered (remembered_url)."""
    if current_app.jinja_env.auto_reload:
        return url_for("static", filename=filename)
    return remembered_url(("static", filename), "static", filename=filename)


def static_version(filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (None for a missing file)."""
    path = _inside(current_app.static_folder or "", filename)
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return _digest(Path(path).read_bytes()) if stat.S_ISREG(found.st_mode) else None


def _inside(folder: str, filename: str) -> str | None:
    """The file's real path if it lies inside `folder` (None for `../secret`)."""
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    return str(path) if root in path.parents else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _static_response(response: Response) -> Response:
    """A year's cache for a static file asked for by its current hash; and the file read
    into memory (they are a few KiB), so that it is compressed like a page: Flask-Compress
    does not gzip a streamed file, and would leave the file open when it compresses one."""
    if request.endpoint != "static" or response.status_code != 200:
        return response
    response.direct_passthrough = False
    data = response.get_data()  # buffers the file and closes it with the response
    version = request.args.get("v")
    # A 200 from the static view is a file of the static folder: its hash is that of the
    # bytes just read, so the file is not read a second time.
    if version and version == _digest(data):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def _favicon() -> Response:
    """Browsers and crawlers ask for /favicon.ico whatever the page links: point them at
    the icon the pages link to."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
