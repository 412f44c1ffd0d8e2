"""kind: sort -- learners put every item into exactly one bucket.

Scoring: each item earns credit 1 when it sits in its one correct bucket, else 0.
score = correct items / all items. There are no partial credits and no rules: a sort
exercise checks one distinction per item, so anything finer would reward guessing.

An incomplete board is never graded (`validate` says what is missing): a half-sorted
board scored as wrong would punish a learner for pressing Submit early rather than for a
misunderstanding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from course.content.fields import (
    Block,
    FactIds,
    Id,
    KindSpec,
    Location,
    OptionalWording,
    Text,
    Wording,
)
from course.grading.base import (
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    Verdict,
    result_from,
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


# ----------------------------------------------------------------------------- spec


class Bucket(Block):
    id: Id
    label: Wording
    description: OptionalWording = ""


def _one_bucket(value: Any) -> Any:
    if isinstance(value, list):
        raise PydanticCustomError("one_bucket", "an item belongs in exactly one bucket; "
                                  "it names {n}", {"n": len(value)})
    return value


class SortItem(Block):
    """Every item needs a hint and an explanation: learners' feedback is built from them."""

    id: Id
    text: Text
    bucket: Annotated[str, BeforeValidator(_one_bucket)]  # a bucket id, see problems()
    hint: Wording
    explanation: Wording
    covers: FactIds = ()


class SortSpec(KindSpec):
    buckets: Annotated[tuple[Bucket, ...], Field(min_length=2)]
    items: Annotated[tuple[SortItem, ...], Field(min_length=1)]

    def bucket(self, bucket_id: str) -> Bucket | None:
        return next((b for b in self.buckets if b.id == bucket_id), None)

    def problems(self) -> Iterator[tuple[Location, str]]:
        """Each item's bucket is one of this exercise's buckets."""
        ids = [b.id for b in self.buckets]
        for i, item in enumerate(self.items):
            if item.bucket not in ids:
                yield (("items", i, "bucket"), f"{item.bucket!r} is not a bucket of this "
                       f"exercise (the buckets are: {', '.join(ids)})")


Spec = SortSpec


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
