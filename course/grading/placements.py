"""The placement board shared by `sort` and `now_next_later`: same answer shape, same checks.

Answer: `{"placements": {item_id: bucket_or_column_id}}`, from `place-<item_id>` fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course.grading.base import AnswerProblem, FormData, Verdict

PLACE_PREFIX = "place-"


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
        target, field = placements[item_id], PLACE_PREFIX + item_id
        if isinstance(target, list):
            problems.append(AnswerProblem(f"'{text}' was placed more than once; put it in one "
                                    f"{container}.", field))
        elif not isinstance(target, str) or target not in targets:
            problems.append(AnswerProblem(f"'{text}' was put in {target!r}, which is not a "
                                    f"{container} of this exercise.", field))
    # One problem per card still to place, so the error summary links to each of them.
    problems.extend(AnswerProblem(f"Place every {noun}: '{text}' is not in a {container} yet.",
                            PLACE_PREFIX + item_id)
                    for item_id, text in items.items() if item_id not in placements)
    return problems


def form_from_placements(answer: Any) -> dict[str, list[str]]:
    """`{"placements": ...}` back to the `place-<id>` fields that post it."""
    return {f"{PLACE_PREFIX}{item_id}": (list(target) if isinstance(target, list)
                                         else [str(target)])
            for item_id, target in answer["placements"].items()}


def classify_placements(accepted: Mapping[str, Sequence[str]], answer: Any) -> list[Verdict]:
    """Right when an item is in one of its accepted places, else a mistake class named
    after the place it was put; unplaced items are left out."""
    placements = answer.get("placements") if isinstance(answer, Mapping) else None
    if not isinstance(placements, Mapping):
        return []
    verdicts = []
    for item_id, ok in accepted.items():
        given = placements.get(item_id)
        if isinstance(given, str):
            verdicts.append(Verdict(item_id, given in ok, () if given in ok else (given,)))
    return verdicts
