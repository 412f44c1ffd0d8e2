"""kind: order -- learners put items in order, and leave out the ones that do not belong.

An exercise lists `items`; each either has a `position` (1 to k, every position used once:
the correct order) or `belongs: false` (a distractor). The learner gives every item a
position from 1 to k or "doesn't belong", each position to exactly one item.

Scoring, relative to both neighbours (Moodle's "relative to the previous and next items"):
  * an item that belongs earns 0.5 when the item before it in the learner's order is the
    one before it in the correct order (or, for the first item, when it comes first), and
    0.5 when the item after it is the correct one (or, for the last, when it comes last);
  * a distractor earns 1 when it is marked "doesn't belong", else 0.
score = credit / number of items.

A swap of two neighbours costs only the links it breaks, so a nearly right order earns
most of the credit, while an order that only looks like the start order earns none: a
reversed order breaks every link and scores 0. The learner's form starts with every
position blank, and `validate` refuses an answer until every item has a position and
every position is filled, so an untouched starting order is never graded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, StrictBool

from course.content.fields import (
    Block,
    FactIds,
    Id,
    KindSpec,
    Location,
    Text,
    WholeNumber,
    Wording,
)
from course.grading.base import (
    AnswerProblem,
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    Verdict,
    result_from,
)
from course.grading.placements import quote_list

KIND = "order"
LABEL = "Exercise"
AUTO_GRADED = True
PARTIAL = "kinds/order.html"
MISTAKE_NOUN = "place"
FIELD_PREFIX = "pos-"
OUT = "out"
OUT_LABEL = "Doesn't belong"


# ----------------------------------------------------------------------------- spec


class OrderItem(Block):
    """An item with its `position` in the correct order, or `belongs: false`."""

    id: Id
    text: Text
    position: WholeNumber | None = None
    belongs: StrictBool = True
    hint: Wording
    explanation: Wording
    covers: FactIds = ()


class OrderSpec(KindSpec):
    first_label: Wording  # what position 1 stands for ("the destination")
    last_label: Wording  # what the last position stands for ("the day's work")
    items: Annotated[tuple[OrderItem, ...], Field(min_length=2)]

    @property
    def ordered(self) -> tuple[OrderItem, ...]:
        """The items that belong, in the correct order."""
        return tuple(sorted((i for i in self.items if i.position is not None),
                            key=lambda i: i.position or 0))

    @property
    def slots(self) -> int:
        return len(self.ordered)

    def problems(self) -> Iterator[tuple[Location, str]]:
        """Each item has a position or `belongs: false`, and the positions run 1 to k."""
        for i, item in enumerate(self.items):
            if not item.belongs and item.position is not None:
                yield (("items", i, "position"), "an item that does not belong has no "
                       "position")
            elif item.belongs and (item.position is None or item.position < 1):
                yield (("items", i, "position"), "is required: a whole number from 1 (or "
                       "write `belongs: false` for an item that does not belong in the "
                       "order)")
        positions = sorted(i.position for i in self.items if i.position is not None)
        if len(positions) < 2 or positions != list(range(1, len(positions) + 1)):
            yield (("items",), "the positions must run 1, 2, 3 ... with each used once "
                   f"(found {', '.join(map(str, positions)) or 'none'})")


Spec = OrderSpec


# --------------------------------------------------------------------------- answers


def is_answer_field(name: str) -> bool:
    return name.startswith(FIELD_PREFIX)


def _value(text: str) -> int | str:
    return int(text) if text.isdigit() and len(text) < 6 else text


def answer_from_form(spec: OrderSpec, form: FormData) -> dict[str, Any]:
    """`pos-<item_id>` = a position number or "out". Blank values mean "not chosen";
    a field sent twice keeps both values for `validate` to refuse."""
    positions: dict[str, Any] = {}
    for name, values in form.items():
        if is_answer_field(name):
            given = [_value(v) for v in values if v != ""]
            if given:
                positions[name[len(FIELD_PREFIX):]] = given[0] if len(given) == 1 else given
    return {"positions": positions}


def form_from_answer(spec: OrderSpec, answer: Any) -> dict[str, list[str]]:
    return {f"{FIELD_PREFIX}{item_id}": [str(v) for v in value] if isinstance(value, list)
            else [str(value)] for item_id, value in answer["positions"].items()}


def _unknown_ids(spec: OrderSpec, positions: Mapping[Any, Any]) -> list[str]:
    known = {i.id for i in spec.items}
    unknown = [str(k) for k in positions if k not in known]
    if not unknown:
        return []
    return [f"This exercise has no item called {quote_list(unknown)}; reload the page and "
            "try again."]


def _item_value_problems(spec: OrderSpec, positions: Mapping[Any, Any]) -> list[str]:
    """Each item has one position of this exercise, or "doesn't belong"."""
    problems: list[str] = []
    for item in spec.items:
        value, field = positions.get(item.id), _field(item.id)
        if value is None:
            # One problem per item, so the error summary links to each of them.
            problems.append(AnswerProblem(f"Choose a position for every item: '{item.text}' has "
                                    "none yet.", field))
        elif isinstance(value, list):
            problems.append(AnswerProblem(f"'{item.text}' was given more than one position; "
                                    "choose one.", field))
        elif value != OUT and (isinstance(value, bool) or not isinstance(value, int)
                               or not 1 <= value <= spec.slots):
            problems.append(AnswerProblem(
                f"'{item.text}' was given {value!r}, which is not a position of this "
                f"exercise (use 1 to {spec.slots}, or {OUT_LABEL}).", field))
    return problems


def _field(item_id: str) -> str:
    """The id of an item's position control on the form (its field name)."""
    return f"pos-{item_id}"


def _slot_problems(spec: OrderSpec, positions: Mapping[Any, Any]) -> list[str]:
    """Every position taken by exactly one item."""
    holders: dict[int, list[Any]] = {p: [] for p in range(1, spec.slots + 1)}
    left_out = []
    for item in spec.items:
        value = positions.get(item.id)
        if isinstance(value, int) and value in holders:
            holders[value].append(item)
        elif value == OUT:
            left_out.append(item)
    problems: list[str] = [
        AnswerProblem(f"Position {p} is given to {quote_list([i.text for i in items])}; each "
                "position takes one item.", _field(items[0].id))
        for p, items in holders.items() if len(items) > 1]
    empty = [str(p) for p, items in holders.items() if not items]
    if empty:
        # Linked to the first item left out: one of those has to move into the gap.
        problems.append(AnswerProblem(
            f"No item is at position {', '.join(empty)} yet: the order has {spec.slots} "
            "positions, and the items left over are the ones that don't belong.",
            _field(left_out[0].id) if left_out else None))
    return problems


def validate(spec: OrderSpec, answer: Any) -> list[str]:
    """Every item has a position or "doesn't belong", and every position holds one item."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("positions"), Mapping):
        return ["Give every item a position before submitting."]
    positions: Mapping[Any, Any] = answer["positions"]
    problems = _unknown_ids(spec, positions) + _item_value_problems(spec, positions)
    return problems or _slot_problems(spec, positions)


def item_credit(spec: OrderSpec, item: OrderItem, positions: Mapping[str, Any]) -> float:
    """Credit in [0, 1] for one item (the module docstring's rule)."""
    given = positions[item.id]
    if item.position is None:
        return 1.0 if given == OUT else 0.0
    if given == OUT:
        return 0.0
    before_right, after_right = _links(spec, item, positions)
    return 0.5 * before_right + 0.5 * after_right


def _links(spec: OrderSpec, item: OrderItem, positions: Mapping[str, Any]
           ) -> tuple[bool, bool]:
    """Whether what comes just before and just after a placed item that belongs is right:
    the item the correct order puts there, or the start (the end) of the order."""
    given = positions[item.id]
    ordered = spec.ordered
    rank = (item.position or 0) - 1
    before = ordered[rank - 1] if rank > 0 else None
    after = ordered[rank + 1] if rank + 1 < len(ordered) else None
    before_right = (given == 1 if before is None else positions[before.id] == given - 1)
    after_right = (given == spec.slots if after is None
                   else positions[after.id] == given + 1)
    return before_right, after_right


def grade(spec: OrderSpec, answer: Any) -> Result:
    """Credit per item relative to its neighbours; score = credit / items."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    positions: Mapping[str, Any] = answer["positions"]
    return result_from([ItemFeedback(
        item_id=item.id, credit=item_credit(spec, item, positions), max_credit=1.0,
        given=(str(positions[item.id]),),
        expected=(str(item.position) if item.position is not None else OUT,),
        hint=item.hint, explanation=item.explanation) for item in spec.items])


def model_answer(spec: OrderSpec) -> dict[str, Any]:
    return {"positions": {i.id: i.position if i.position is not None else OUT
                          for i in spec.items}}


# ------------------------------------------------------------------ pages and reports


def start_order(spec: OrderSpec) -> list[OrderItem]:
    """The order the form lists items in: shuffled the same way on every page load, and
    never the answer (the items that belong are never in their correct order)."""
    shuffled = sorted(spec.items, key=lambda i: hashlib.sha256(i.id.encode()).hexdigest())
    belonging = [i for i in shuffled if i.position is not None]
    if belonging == sorted(belonging, key=lambda i: i.position or 0):
        shuffled.reverse()
    return shuffled


def item_texts(spec: OrderSpec) -> dict[str, str]:
    return {i.id: i.text for i in spec.items}


def answer_labels(spec: OrderSpec) -> dict[str, str]:
    """Position -> how the form and the attempt page name it."""
    labels = {str(p): str(p) for p in range(1, spec.slots + 1)}
    labels["1"] = f"1: {spec.first_label}"
    labels[str(spec.slots)] = f"{spec.slots}: {spec.last_label}"
    labels[OUT] = OUT_LABEL
    return labels


SCORING_EXPLAINED = (
    "Each item in the order earns half a point when the item just above it is the one "
    "that belongs there (for the item that belongs first: when it is at the top), and half "
    "a point when the item just below it is the right one (for the item that belongs last: "
    "when it is at the bottom). An item that does not belong earns its point when it is "
    "marked \u201cDoesn't belong\u201d. So an item in its right place is only partly right "
    "when one of its neighbours is wrong, and swapping two neighbours costs only the links "
    "it breaks.")


def credit_notes(spec: OrderSpec, given: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Item id -> why a partly right item earned half its point, in the result's words
    (the module docstring's rule, side by side), from every item's given place; none
    when the answer no longer fits the exercise (an attempt at an older version)."""
    positions = {item_id: _value(values[0]) for item_id, values in given.items() if values}
    if set(positions) != {i.id for i in spec.items} or validate(spec, {"positions": positions}):
        return {}
    notes = {}
    for item in spec.items:
        if item.position is None or positions[item.id] == OUT:
            continue
        before_right, after_right = _links(spec, item, positions)
        if before_right == after_right:  # full or no credit: nothing to explain
            continue
        first, last = positions[item.id] == 1, positions[item.id] == spec.slots
        if before_right:
            right = "it rightly starts the order" if first else "the item above it is the right one"
            wrong = "it should not end the order" if last else "the item below it is not"
        else:
            right = "it rightly ends the order" if last else "the item below it is the right one"
            wrong = "it should not start the order" if first else "the item above it is not"
        notes[item.id] = f"Half credit: {right}; {wrong}."
    return notes


def item_details(spec: OrderSpec, item_id: str, given: Sequence[str],
                 show: bool) -> tuple[Any, ...]:
    return ()


def classify(spec: OrderSpec, answer: Any) -> list[Verdict]:
    """Right with full credit; otherwise the place it was put is the mistake class."""
    if validate(spec, answer):
        return []
    positions = answer["positions"]
    verdicts = []
    for item in spec.items:
        right = item_credit(spec, item, positions) == 1.0
        verdicts.append(Verdict(item.id, right, () if right else (str(positions[item.id]),)))
    return verdicts


def mistake_label(spec: OrderSpec, item_id: str, mistake: str) -> str:
    label = answer_labels(spec).get(mistake, mistake)
    return label if mistake == OUT else f"position {label}"


def rubric(spec: OrderSpec) -> tuple[Any, ...]:
    return ()


def demo_answer(spec: OrderSpec, learner: DemoLearner) -> dict[str, Any]:
    """The right order, with each item the learner does not know swapped into the place
    they mistake it for (so the answer always stays a complete order)."""
    positions: dict[str, Any] = model_answer(spec)["positions"]
    places = [str(p) for p in range(1, spec.slots + 1)] + [OUT]
    for item in spec.items:
        if learner.knows(item.id):
            continue
        here = str(positions[item.id])
        there = learner.mistake(item.id, [p for p in places if p != here])
        if there == OUT and here == OUT:
            continue
        other = next((i for i, v in positions.items() if str(v) == there and i != item.id),
                     None)
        if other is None:
            continue
        positions[item.id], positions[other] = positions[other], positions[item.id]
    return {"positions": positions}
