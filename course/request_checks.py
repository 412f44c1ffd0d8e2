"""Refuse, before any view runs, text that no page can store or mean.

A NUL byte is refused by PostgreSQL (a 500 when it reached the database), other control
characters have no place in a form, and bytes that are not UTF-8 cannot be read back as
the text the person typed. One `before_request` check covers the path, every query-string
field and every form field (names and values), so a field added to any form later is
covered without doing anything. Tab, line feed and carriage return stay allowed: a
textarea sends them. A form with more fields than any page sends is refused too, so a
flood of unknown names never reaches a validator that would list them all.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Flask, abort, request

# C0 controls except tab, LF, CR; DEL; U+FFFD (what a decoder puts for undecodable bytes).
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
MAX_FIELDS = 500
REFUSED = ("What you sent contains characters that cannot be stored (such as a NUL byte, "
           "a control character or text that is not valid UTF-8). Remove them and try again.")
TOO_MANY = "What you sent has far more fields than this form has."


def init_app(app: Flask) -> None:
    """Register the check; call before any other `before_request` (CSRF, rate limits)."""
    app.config.setdefault("MAX_FORM_PARTS", MAX_FIELDS)  # multipart bodies
    app.before_request(refuse_unusable_input)


def refuse_unusable_input() -> None:
    this = request._get_current_object()  # type: ignore[attr-defined]  # one look-up, not one per use
    if UNSTORABLE.search(this.path):
        abort(400, description=REFUSED)
    if this.query_string:
        _check_fields(_strict_fields(this.query_string))
    if "CONTENT_TYPE" not in this.environ:  # no body to read (every page view)
        return
    mimetype = this.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        _check_fields(_strict_fields(this.get_data(cache=True)))
    elif mimetype == "multipart/form-data":
        fields = [*this.form.items(multi=True),
                  *((name, f.filename or "") for name, f in this.files.items(multi=True))]
        _check_fields(fields)


def _strict_fields(raw: bytes) -> list[tuple[str, str]]:
    """Parse an urlencoded string as UTF-8 strictly: Werkzeug would quietly keep bad bytes
    as '%FF' text, which nobody typed."""
    try:
        text = raw.decode("utf-8")
        if text.count("&") >= MAX_FIELDS:
            abort(400, description=TOO_MANY)
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        abort(400, description=REFUSED)


def _check_fields(fields: list[tuple[str, str]]) -> None:
    if len(fields) > MAX_FIELDS:
        abort(400, description=TOO_MANY)
    for name, value in fields:
        if UNSTORABLE.search(name) or UNSTORABLE.search(value):
            abort(400, description=REFUSED)
