"""The one place that maps an exercise `kind` to the module that grades it.

Everything else (loader, views, regrade jobs) goes through here, so adding a kind means
adding a module and one line in KINDS.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from course.content.errors import Reporter
from course.content.schema import Exercise
from course.grading import now_next_later, quiz, review, sort
from course.grading.base import FormData, Result

KINDS: dict[str, ModuleType] = {
    sort.KIND: sort,
    now_next_later.KIND: now_next_later,
    quiz.KIND: quiz,
    review.KIND: review,
}


def get_kind(name: str) -> ModuleType:
    """The grading module for `name`; KeyError for an unknown kind (a content error)."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not an exercise kind (use {', '.join(KINDS)})") from None


def parse_spec(kind: str, data: Mapping[str, Any], report: Reporter) -> Any:
    """Validate the kind-specific fields of an exercise file (KeyError for unknown kind)."""
    return get_kind(kind).parse_spec(data, report)


def answer_from_form(exercise: Exercise, form: FormData) -> Any:
    return get_kind(exercise.kind).answer_from_form(exercise.spec, form)


def validate(exercise: Exercise, answer: Any) -> list[str]:
    return get_kind(exercise.kind).validate(exercise.spec, answer)


def grade(exercise: Exercise, answer: Any) -> Result:
    """Score an answer; raises InvalidAnswer when `validate` would reject it."""
    return get_kind(exercise.kind).grade(exercise.spec, answer)


def model_answer(exercise: Exercise) -> Any:
    """The reference answer in the learner's answer shape (None for reviews)."""
    return get_kind(exercise.kind).model_answer(exercise.spec)
