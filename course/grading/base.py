"""The one grading interface every exercise kind implements.

A kind module is pure: it reads an exercise and an answer and returns a Result. It never
touches a request, a session or the database, so it can be unit-tested and re-run
(regrade) on stored answers at any time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from course.content.errors import Reporter

# What a form submission looks like once the web layer has flattened it: field -> values.
FormData = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class ItemFeedback:
    """Feedback on one item (a sorted item, a plan card, a quiz question, a prompt).

    `given` / `expected` are bucket, column or option ids as the learner and the answer
    key have them. `hint` explains without giving the answer away (shown while attempts
    remain); `explanation` is the full reason (shown with the model answer).
    """

    item_id: str
    credit: float
    max_credit: float
    given: tuple[str, ...]
    expected: tuple[str, ...]
    hint: str
    explanation: str

    @property
    def correct(self) -> bool:
        return self.credit >= self.max_credit

    def to_json(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "credit": self.credit, "max_credit": self.max_credit,
                "given": list(self.given), "expected": list(self.expected),
                "hint": self.hint, "explanation": self.explanation}


@dataclass(frozen=True)
class RuleFeedback:
    """A plan-level rule (Now capacity, precedence) and whether the answer kept it."""

    rule_id: str
    passed: bool
    points: float
    max_points: float
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "passed": self.passed, "points": self.points,
                "max_points": self.max_points, "message": self.message}


@dataclass(frozen=True)
class Result:
    """A graded answer. `score` = points / max_points, always in [0, 1].

    `pending` is True for work a person grades (kind "review"): score 0 until reviewed.
    """

    score: float
    points: float
    max_points: float
    items: tuple[ItemFeedback, ...] = ()
    rules: tuple[RuleFeedback, ...] = ()
    pending: bool = False

    def feedback_json(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items],
                "rules": [r.to_json() for r in self.rules]}


class InvalidAnswer(ValueError):
    """The answer does not fit the exercise; `problems` are messages for the learner."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class ExerciseKind(Protocol):
    """What each module in course.grading provides (see registry.KINDS)."""

    KIND: str

    def parse_spec(self, data: Mapping[str, Any], report: Reporter) -> Any:
        """Validate the kind-specific part of an exercise file; record problems on `report`."""

    def answer_from_form(self, spec: Any, form: FormData) -> Any:
        """Turn posted form fields into this kind's JSON-able answer (no validation)."""

    def validate(self, spec: Any, answer: Any) -> list[str]:
        """Every reason this answer cannot be graded; empty when it can."""

    def grade(self, spec: Any, answer: Any) -> Result:
        """Score a validated answer."""

    def model_answer(self, spec: Any) -> Any:
        """The reference answer, in the same shape as a learner's."""


def result_from(items: Sequence[ItemFeedback], rules: Sequence[RuleFeedback] = ()) -> Result:
    """Total up item credit and rule points into a Result with score in [0, 1]."""
    points = sum(i.credit for i in items) + sum(r.points for r in rules)
    max_points = sum(i.max_credit for i in items) + sum(r.max_points for r in rules)
    score = points / max_points if max_points else 0.0
    return Result(score=min(1.0, max(0.0, score)), points=points, max_points=max_points,
                  items=tuple(items), rules=tuple(rules))
