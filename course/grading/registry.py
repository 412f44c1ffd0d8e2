"""The one place that maps an exercise `kind` to the module that implements it.

Everything else (loader, services, views, templates, demo data) reaches a kind through
`kind_of` and the ExerciseKind protocol, so adding a kind means adding a module, its
template partial and one line in KINDS (docs/ARCHITECTURE.md has the checklist).
"""

from __future__ import annotations

from typing import Any

from course.content.schema import Exercise
from course.grading import now_next_later, order, quiz, review, sort
from course.grading.base import FormData, Result
from course.grading.kind import ExerciseKind

KINDS: dict[str, ExerciseKind] = {
    sort.KIND: sort,
    now_next_later.KIND: now_next_later,
    quiz.KIND: quiz,
    review.KIND: review,
    order.KIND: order,
}


def get_kind(name: str) -> ExerciseKind:
    """The module of kind `name`; KeyError for an unknown kind (a content error)."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not an exercise kind (use {', '.join(KINDS)})") from None


def kind_of(exercise: Exercise) -> ExerciseKind:
    """The kind module of a loaded exercise."""
    return KINDS[exercise.kind]


def answer_from_form(exercise: Exercise, form: FormData) -> Any:
    return kind_of(exercise).answer_from_form(exercise.spec, form)


def form_from_answer(exercise: Exercise, answer: Any) -> dict[str, list[str]]:
    """A stored answer as the form fields that would post it (pre-fills a retry)."""
    return get_kind(exercise.kind).form_from_answer(exercise.spec, answer)


def validate(exercise: Exercise, answer: Any) -> list[str]:
    return kind_of(exercise).validate(exercise.spec, answer)


def grade(exercise: Exercise, answer: Any) -> Result:
    """Score an answer; raises InvalidAnswer when `validate` would reject it."""
    return kind_of(exercise).grade(exercise.spec, answer)


def model_answer(exercise: Exercise) -> Any:
    """The reference answer in the learner's answer shape (None for reviews)."""
    return kind_of(exercise).model_answer(exercise.spec)
