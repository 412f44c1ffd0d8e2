"""The forms a page offers, read from its HTML as a browser would, to post them back
with one field changed (tests of hostile input over every form of the site)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask import Flask
from sqlalchemy import select

from course.db import Base, get_session


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in self.fields))

    def data_with(self, name: str, value: str) -> list[tuple[str, str]]:
        """Every field as the page filled it, with `name`'s value(s) replaced."""
        return [(n, value if n == name else v) for n, v in self.fields]


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action") or self.page_url)
            self.forms.append(self._form)
        elif self._form is None or (not a.get("name") and tag != "option"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "reset", "image"):
            self._form.fields.append((a["name"], a.get("value", "x")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.append((a["name"], "x"))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select:
            self._form.fields.append((self._select, a.get("value", "")))
            self._select = None  # the first option stands for the field

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(html: str, page_url: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table: equal snapshots mean nothing was stored or changed."""
    with app.app_context():
        session = get_session()
        return {table.name: [tuple(row) for row in session.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def concrete_url(rule: str, attempt_id: int, exercise_id: str) -> str:
    """A real address for a url_map rule: `attempt_id` for attempt ids, `exercise_id` for
    exercise pages, a lesson for lesson pages, something well-formed for the rest."""
    values = {"attempt_id": str(attempt_id), "exercise_id": "roadmap-or-backlog",
              "token": "not-a-token", "filename": "style.css",
              "user_id": "1"}  # any well-formed id: access is checked before the lookup

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "step_id":
            return exercise_id if "exercises" in rule else "product-vision"
        return values.get(name, "x")

    return re.sub(r"<(?:\w+:)?(\w+)>", fill, rule)
