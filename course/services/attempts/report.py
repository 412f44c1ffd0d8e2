"""The attempt page's presentation: what it may reveal of an attempt, decided here.

`attempt_report` turns an attempt's stored feedback and the learner's standing into the
page's content (each item's mark, what is shown of the model answer and the
explanations under the exercise's policy, the lessons to revisit), so the template only
displays. `retry_fields` turns an answer back into the form a retry starts from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course import caches
from course.content.schema import Course, Exercise, LessonSection
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.models import Attempt
from course.services.attempts.policy import attempts_left, model_answer_visible
from course.services.attempts.reads import OwnAttempt, Standing

# Form fields as (name, value) pairs, repeated names allowed (a MultiDict's items).
MultiValues = list[tuple[str, str]]


def retry_fields(exercise: Exercise, answer: Mapping[str, Any]) -> MultiValues:
    """An attempt's answer as form fields, so a retry starts from what the learner last
    submitted instead of a blank form."""
    fields = registry.form_from_answer(exercise, answer)
    return [(name, value) for name, values in fields.items() for value in values]


@dataclass(frozen=True)
class ItemReport:
    """One graded item, card or question, with only what the learner may see now.

    `mark` is "right", "partial" or "wrong". `message` is the explanation when the item
    is right or the model answer is visible, else the hint; `expected` is empty while the
    answer is hidden.
    """

    id: str
    text: str
    mark: str
    credit: float
    max_credit: float
    given: tuple[str, ...]
    given_labels: tuple[str, ...]
    expected: tuple[str, ...]
    expected_labels: tuple[str, ...]
    message: str
    details: tuple[Any, ...] = ()  # the kind's own parts (a question's options)
    lessons: tuple[LessonSection, ...] = ()  # where the course teaches what this checks


@dataclass(frozen=True)
class AttemptReport:
    """Everything the attempt page needs, decided here rather than in a template."""

    exercise: Exercise
    attempt: Attempt | OwnAttempt
    answer_visible: bool
    attempts_used: int
    attempts_left: int | None
    items: tuple[ItemReport, ...]
    rules: tuple[dict[str, Any], ...]
    columns: tuple[tuple[str, str], ...]  # bucket or column id, label (boards only)
    # item id -> what the model answer gives for it, once visible (empty until then)
    reference: Mapping[str, tuple[str, ...]]
    # The answer's canonical JSON when the report was worked out from it and the exercise
    # as loaded (auto-graded, current version), so equal keys, equal reports; else None.
    answer_key: str | None = None

    @property
    def differences(self) -> tuple[ItemReport, ...]:
        """Items answered otherwise than in the model answer (shown with the answer)."""
        return tuple(i for i in self.items
                     if i.id in self.reference and i.given != self.reference[i.id])

    @property
    def can_retry(self) -> bool:
        return self.attempts_left is None or self.attempts_left > 0

    @property
    def to_review(self) -> tuple[ItemReport, ...]:
        """Items not fully right: what the result page leads with."""
        return tuple(i for i in self.items if i.mark != "right")

    @property
    def broken_rules(self) -> tuple[dict[str, Any], ...]:
        """The plan rules the answer broke: reviewed with the items, since a rule can cost
        as much as several cards."""
        return tuple(r for r in self.rules if not r["passed"])

    @property
    def review_count(self) -> int:
        """How many things "To review" lists: the items not fully right and the broken rules."""
        return len(self.to_review) + len(self.broken_rules)

    @property
    def given_by_item(self) -> dict[str, tuple[str, ...]]:
        """Item id -> what the learner gave for it: the whole answer, for a kind whose
        result explains one item by its neighbours (the order exercise)."""
        return {i.id: i.given for i in self.items}

    @property
    def lessons_to_revisit(self) -> tuple[LessonSection, ...]:
        """The lesson sections behind every item to review, without repeats."""
        return tuple(dict.fromkeys(s for i in self.to_review for s in i.lessons))


def _mark(credit: float, max_credit: float) -> str:
    if credit >= max_credit:
        return "right"
    return "partial" if credit > 0 else "wrong"


def _current_feedback(exercise: Exercise, attempt: Attempt | OwnAttempt
                      ) -> tuple[dict[str, Any], str | None]:
    """The attempt's feedback with the hints, explanations and rule messages as the file
    words them now, and the answer's key when it was re-graded so.

    The version changes only when grading does (course.content.fields), so an attempt of
    the current version re-grades to the same credit; only its wording can differ from
    what was stored, and a fixed typo should show everywhere at once.
    """
    if attempt.exercise_version != exercise.version or not exercise.auto_graded:
        return attempt.feedback, None
    key = answer_key(attempt.answer)
    regraded = _regraded(exercise, key)
    return (attempt.feedback, None) if regraded is None else (regraded, key)


def answer_key(answer: Any) -> str:
    """An answer as canonical JSON: equal answers, equal keys."""
    return json.dumps(answer, sort_keys=True)


def _regraded(exercise: Exercise, answer_json: str) -> dict[str, Any] | None:
    """The answer's feedback graded again (kept: caches.REGRADED_FEEDBACK)."""

    def grade() -> dict[str, Any] | None:
        try:
            return registry.grade(exercise, json.loads(answer_json)).feedback_json()
        except InvalidAnswer:
            return None

    return caches.REGRADED_FEEDBACK.kept((exercise, id(exercise.spec), answer_json), grade)


def attempt_report(exercise: Exercise, attempt: Attempt | OwnAttempt, standing: Standing,
                   reveal: bool = False, course: Course | None = None) -> AttemptReport:
    """Build the attempt page's content from the stored feedback.

    `standing` is the learner's on the whole exercise: whether the answer may be shown
    depends on every attempt (a later pass reveals it on earlier attempts too).
    Items are described with the exercise's current texts, falling back to ids for
    anything a newer version of the file removed. `reveal` shows every explanation and
    the model answer whatever the policy says (for instructors). With `course`, each item
    that is not right links to the lesson sections teaching the facts it checks.
    """
    visible = reveal or model_answer_visible(exercise.policy, standing.used, standing.passed)
    feedback, key = _current_feedback(exercise, attempt)
    items = (_items(exercise, feedback, visible, course) if key is None
             else _kept_items(exercise, feedback, key, visible, course))
    return AttemptReport(
        exercise=exercise, attempt=attempt, answer_visible=visible,
        attempts_used=standing.used,
        attempts_left=attempts_left(exercise.policy, standing.used),
        items=items, rules=tuple(feedback.get("rules", [])),
        columns=tuple(registry.kind_of(exercise).answer_labels(exercise.spec).items()),
        reference=_reference(exercise) if visible else {},
        answer_key=key)


def _items(exercise: Exercise, feedback: Mapping[str, Any], visible: bool,
           course: Course | None) -> tuple[ItemReport, ...]:
    kind = registry.kind_of(exercise)
    texts, labels = kind.item_texts(exercise.spec), kind.answer_labels(exercise.spec)
    items = []
    for fb in feedback.get("items", []):
        given, expected = tuple(fb["given"]), tuple(fb["expected"])
        mark = _mark(fb["credit"], fb["max_credit"])
        show = visible or mark == "right"
        items.append(ItemReport(
            id=fb["item_id"], text=texts.get(fb["item_id"], fb["item_id"]), mark=mark,
            credit=fb["credit"], max_credit=fb["max_credit"], given=given,
            given_labels=tuple(labels.get(g, g) for g in given),
            expected=expected if show else (),
            expected_labels=tuple(labels.get(e, e) for e in expected) if show else (),
            message=fb["explanation"] if show else fb["hint"],
            details=kind.item_details(exercise.spec, fb["item_id"], given, show),
            lessons=(course.review_sections(exercise, fb["item_id"])
                     if course is not None and mark != "right" else ())))
    return tuple(items)


def _kept_items(exercise: Exercise, feedback: Mapping[str, Any], key: str, visible: bool,
                course: Course | None) -> tuple[ItemReport, ...]:
    """The items of a report worked out from the answer (`key`, see _current_feedback),
    kept (caches.ATTEMPT_ITEMS). Callers only read them."""
    return caches.ATTEMPT_ITEMS.kept(
        (exercise, id(exercise.spec), key, visible, course is not None),
        lambda: _items(exercise, feedback, visible, course))


def _reference(exercise: Exercise) -> dict[str, tuple[str, ...]]:
    """Item id -> the model answer's choice for it, read from the model answer's own
    feedback so it is the same for every kind (none for work a person grades); kept
    (caches.MODEL_ANSWERS). Callers only read it."""

    def choices() -> dict[str, tuple[str, ...]]:
        model = registry.model_answer(exercise)
        if model is None:
            return {}
        return {i.item_id: i.given for i in registry.grade(exercise, model).items}

    return caches.MODEL_ANSWERS.kept((exercise, id(exercise.spec)), choices)
