"""kind: sort -- learners put every item into exactly one bucket.

Scoring: each item earns credit 1 when it sits in its one correct bucket, else 0.
score = correct items / all items. There are no partial credits and no rules: a sort
exercise checks one distinction per item, so anything finer would reward guessing.

An incomplete board is never graded (`validate` says what is missing): a half-sorted
board scored as wrong would punish a learner for pressing Submit early rather than for a
misunderstanding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course.content.errors import Reporter
from course.grading.base import (
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    Verdict,
    result_from,
)
from course.grading.fields import (
    check_keys,
    check_unique,
    read_covers,
    read_id,
    read_list,
    read_text,
)
from course.grading.placements import (
    PLACE_PREFIX,
    classify_placements,
    form_from_placements,
    placement_problems,
    placements_from_form,
)

KIND = "sort"
LABEL = "Exercise"
AUTO_GRADED = True
PARTIAL = "kinds/sort.html"
MISTAKE_NOUN = "bucket"
# Top-level fields this kind reads (the loader owns the common header).
SPEC_FIELDS = ("buckets", "items")


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
            elif isinstance(bucket, list):
                report.add(f"{where}.bucket", "an item belongs in exactly one bucket; "
                           f"it names {len(bucket)}")
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


def is_answer_field(name: str) -> bool:
    return name.startswith(PLACE_PREFIX)


def answer_from_form(spec: SortSpec, form: FormData) -> dict[str, Any]:
    """`place-<item_id>` = bucket id, one per item."""
    return placements_from_form(form)


def form_from_answer(spec: SortSpec, answer: Any) -> dict[str, list[str]]:
    return form_from_placements(answer)


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


# ------------------------------------------------------------------ pages and reports


def item_texts(spec: SortSpec) -> dict[str, str]:
    return {i.id: i.text for i in spec.items}


def answer_labels(spec: SortSpec) -> dict[str, str]:
    return {b.id: b.label for b in spec.buckets}


def board_columns(spec: SortSpec) -> list[dict[str, str]]:
    """The buckets as the board offers them (the partial's form)."""
    return [{"id": b.id, "label": b.label} for b in spec.buckets]


def item_details(spec: SortSpec, item_id: str, given: Sequence[str],
                 show: bool) -> tuple[Any, ...]:
    return ()


def classify(spec: SortSpec, answer: Any) -> list[Verdict]:
    """Right when the item is in its bucket; otherwise the bucket it was put in."""
    return classify_placements({i.id: (i.bucket,) for i in spec.items}, answer)


def mistake_label(spec: SortSpec, item_id: str, mistake: str) -> str:
    return answer_labels(spec).get(mistake, mistake)


def rubric(spec: SortSpec) -> tuple[Any, ...]:
    return ()


def demo_answer(spec: SortSpec, learner: DemoLearner) -> dict[str, Any]:
    return {"placements": {
        i.id: i.bucket if learner.knows(i.id) else learner.mistake(
            i.id, [b.id for b in spec.buckets if b.id != i.bucket])
        for i in spec.items}}
