"""Readers for exercise-file fields, shared by every kind module.

They all read YAML the same way and report problems with the same field paths
(`items[2].bucket`), so an author sees one style of message whatever the kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from course.content.errors import Reporter

# Ids end up in URLs, HTML ids and form field names, so keep them plain.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def at(where: str, key: str | int) -> str:
    """Field path in the style authors see: `items[2].bucket`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def check_keys(obj: Mapping[str, Any], allowed: Iterable[str], where: str,
               report: Reporter) -> None:
    """Report unknown keys: a typo like `hnit:` would otherwise silently drop a hint."""
    allowed = tuple(allowed)
    for key in obj:
        if key not in allowed:
            report.add(at(where, str(key)),
                       f"unknown field (expected one of: {', '.join(allowed)})")


def read_text(obj: Mapping[str, Any], key: str, where: str, report: Reporter,
              required: bool = True, default: str = "") -> str | None:
    """A string field; required ones must not be blank. Returns None when invalid."""
    value = obj.get(key)
    if value is None:
        if required:
            report.add(at(where, key), "is required")
            return None
        return default
    if not isinstance(value, str):
        report.add(at(where, key), "must be text")
        return None
    if required and not value.strip():
        report.add(at(where, key), "must not be empty")
        return None
    return value


def read_id(obj: Mapping[str, Any], key: str, where: str, report: Reporter) -> str | None:
    """An id: letters, digits, '-' and '_' (it is used in URLs and form field names)."""
    value = obj.get(key)
    if value is None:
        report.add(at(where, key), "is required")
        return None
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        report.add(at(where, key), f"{value!r} is not a valid id "
                   "(use letters, digits, '-' and '_', at most 64 characters)")
        return None
    return value


def read_list(obj: Mapping[str, Any], key: str, where: str, report: Reporter,
              min_len: int = 1) -> list[Mapping[str, Any]] | None:
    """A list of mappings with at least `min_len` entries; non-mapping entries reported."""
    value = obj.get(key)
    if value is None:
        report.add(at(where, key), "is required")
        return None
    if not isinstance(value, list):
        report.add(at(where, key), "must be a list")
        return None
    if len(value) < min_len:
        report.add(at(where, key), f"needs at least {min_len} "
                   f"entr{'y' if min_len == 1 else 'ies'}")
        return None
    ok = True
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            report.add(at(at(where, key), i), "must be a mapping of fields")
            ok = False
    return value if ok else None


def read_covers(obj: Mapping[str, Any], where: str, report: Reporter) -> tuple[str, ...]:
    """Optional `covers: [fact ids]`, kept on the spec.

    The loader owns this field: it reports a malformed list and unknown fact ids (against
    course.yaml), so nothing is reported here, which would say the same thing twice.
    """
    value = obj.get("covers")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return ()
    return tuple(value)


def check_unique(ids: Sequence[tuple[str, str | None]], report: Reporter) -> None:
    """Report every repeated id; `ids` pairs a field path with the id read there."""
    seen: set[str] = set()
    for field, value in ids:
        if value is None:
            continue
        if value in seen:
            report.add(field, f"duplicate id {value!r}")
        seen.add(value)


def parse_entries(raw_entries: Sequence[Mapping[str, Any]] | None, key: str,
                  parse: Callable[[Mapping[str, Any], str], Any],
                  report: Reporter) -> list[Any]:
    """Parse each entry of a list from `read_list` (dropping invalid ones, which `parse`
    reports) and report repeated ids: the shape of every list of cards, questions,
    prompts and criteria."""
    parsed = []
    for i, raw in enumerate(raw_entries or []):
        entry = parse(raw, at(key, i))
        if entry is not None:
            parsed.append(entry)
    check_unique([(f"{at(key, i)}.id", raw.get("id") if isinstance(raw.get("id"), str)
                   else None) for i, raw in enumerate(raw_entries or [])], report)
    return parsed
