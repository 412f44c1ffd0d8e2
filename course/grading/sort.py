"""kind: sort -- learners put every item into exactly one bucket.

Scoring: each item earns credit 1 when it sits in its one correct bucket, else 0.
score = correct items / all items. There are no partial credits and no rules: a sort
exercise checks one distinction per item, so anything finer would reward guessing.

An incomplete board is never graded (`validate` says what is missing): a half-sorted
board scored as wrong would punish a learner for pressing Submit early rather than for a
misunderstanding.

This module also holds the field readers used by the other kind modules (they all read
YAML the same way and report problems with the same field paths) and the placement-board
helpers shared with `now_next_later`, which uses the same answer shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course.content.errors import Reporter
from course.grading.base import FormData, InvalidAnswer, ItemFeedback, Result, result_from

KIND = "sort"
# Top-level fields this kind reads (the loader owns the common header).
SPEC_FIELDS = ("buckets", "items")
# Ids end up in URLs, HTML ids and form field names, so keep them plain.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PLACE_PREFIX = "place-"


# --------------------------------------------------------------------- field readers


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


# ----------------------------------------------------------- placement-board helpers


def placements_from_form(form: FormData) -> dict[str, Any]:
    """`place-<id>` fields to `{"placements": {id: target}}`.

    Empty values mean "not placed" and are dropped. A field sent more than once keeps
    every value as a list so `placement_problems` can reject it as placed twice.
    """
    placements: dict[str, Any] = {}
    for name, values in form.items():
        if not name.startswith(PLACE_PREFIX):
            continue
        item_id = name[len(PLACE_PREFIX):]
        given = [v for v in values if v != ""]
        if len(given) == 1:
            placements[item_id] = given[0]
        elif given:
            placements[item_id] = list(given)
    return {"placements": placements}


def quote_list(texts: Sequence[str]) -> str:
    quoted = [f"'{t}'" for t in texts]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def placement_problems(answer: Any, items: Mapping[str, str], targets: Mapping[str, str],
                       noun: str, container: str) -> list[str]:
    """Why a placement answer cannot be graded.

    `items` maps item id -> text, `targets` maps bucket/column id -> label; `noun` is
    "item" or "card" and `container` is "bucket" or "column" (for the messages).
    """
    if not isinstance(answer, Mapping) or not isinstance(answer.get("placements"), Mapping):
        return [f"Place every {noun} in a {container} before submitting."]
    placements: Mapping[Any, Any] = answer["placements"]
    problems: list[str] = []
    unknown = [k for k in placements if k not in items]
    if unknown:
        problems.append(f"This exercise has no {noun} called "
                        f"{quote_list([str(k) for k in unknown])}; reload the page and try again.")
    for item_id, text in items.items():
        if item_id not in placements:
            continue
        target = placements[item_id]
        if isinstance(target, list):
            problems.append(f"'{text}' was placed more than once; put it in one {container}.")
        elif not isinstance(target, str) or target not in targets:
            problems.append(f"'{text}' was put in {target!r}, which is not a {container} "
                            "of this exercise.")
    missing = [text for item_id, text in items.items() if item_id not in placements]
    if len(missing) == 1:
        problems.append(f"Place every {noun}: '{missing[0]}' is not in a {container} yet.")
    elif missing:
        problems.append(f"Place every {noun}: {len(missing)} {noun}s are not in a "
                        f"{container} yet: {quote_list(missing)}.")
    return problems


# ----------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Bucket:
    id: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class SortItem:
    id: str
    text: str
    bucket: str
    hint: str
    explanation: str
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SortSpec:
    buckets: tuple[Bucket, ...]
    items: tuple[SortItem, ...]

    def bucket(self, bucket_id: str) -> Bucket | None:
        return next((b for b in self.buckets if b.id == bucket_id), None)

    def covered_facts(self) -> dict[str, tuple[str, ...]]:
        """Field path -> fact ids, for items that declare `covers`."""
        return {f"items[{i}].covers": it.covers for i, it in enumerate(self.items) if it.covers}


BUCKET_FIELDS = ("id", "label", "description")
ITEM_FIELDS = ("id", "text", "bucket", "hint", "explanation", "covers")


def parse_spec(data: Mapping[str, Any], report: Reporter) -> SortSpec | None:
    """Read `buckets` and `items`; every item needs a hint and an explanation because
    the feedback shown to learners is built from them."""
    start = len(report.problems)
    buckets: list[Bucket] = []
    raw_buckets = read_list(data, "buckets", "", report, min_len=2)
    if raw_buckets is not None:
        ids = []
        for i, raw in enumerate(raw_buckets):
            where = f"buckets[{i}]"
            check_keys(raw, BUCKET_FIELDS, where, report)
            bid = read_id(raw, "id", where, report)
            label = read_text(raw, "label", where, report)
            desc = read_text(raw, "description", where, report, required=False)
            ids.append((f"{where}.id", bid))
            if bid is not None and label is not None and desc is not None:
                buckets.append(Bucket(bid, label, desc))
        check_unique(ids, report)
    bucket_ids = {b.id for b in buckets}

    items: list[SortItem] = []
    raw_items = read_list(data, "items", "", report)
    if raw_items is not None:
        ids = []
        for i, raw in enumerate(raw_items):
            where = f"items[{i}]"
            check_keys(raw, ITEM_FIELDS, where, report)
            iid = read_id(raw, "id", where, report)
            text = read_text(raw, "text", where, report)
            bucket = raw.get("bucket")
            if bucket is None:
                report.add(f"{where}.bucket", "is required")
            elif raw_buckets is not None and not (isinstance(bucket, str)
                                                  and bucket in bucket_ids):
                report.add(f"{where}.bucket", f"{bucket!r} is not a bucket of this exercise")
            hint = read_text(raw, "hint", where, report)
            explanation = read_text(raw, "explanation", where, report)
            covers = read_covers(raw, where, report)
            ids.append((f"{where}.id", iid))
            placed = isinstance(bucket, str) and bucket in bucket_ids
            if None not in (iid, text, hint, explanation) and placed:
                items.append(SortItem(iid, text, bucket, hint, explanation, covers))
        check_unique(ids, report)

    if len(report.problems) > start:
        return None
    return SortSpec(tuple(buckets), tuple(items))


# --------------------------------------------------------------------------- answers


def answer_from_form(spec: SortSpec, form: FormData) -> dict[str, Any]:
    """`place-<item_id>` = bucket id, one per item."""
    return placements_from_form(form)


def validate(spec: SortSpec, answer: Any) -> list[str]:
    """Every item placed exactly once, into a bucket of this exercise."""
    return placement_problems(answer, {i.id: i.text for i in spec.items},
                              {b.id: b.label for b in spec.buckets}, "item", "bucket")


def grade(spec: SortSpec, answer: Any) -> Result:
    """Credit 1 per item in its correct bucket; score = correct / all items."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    placements = answer["placements"]
    feedback = []
    for item in spec.items:
        given = placements[item.id]
        feedback.append(ItemFeedback(
            item_id=item.id, credit=1.0 if given == item.bucket else 0.0, max_credit=1.0,
            given=(given,), expected=(item.bucket,), hint=item.hint,
            explanation=item.explanation))
    return result_from(feedback)


def model_answer(spec: SortSpec) -> dict[str, Any]:
    return {"placements": {item.id: item.bucket for item in spec.items}}
