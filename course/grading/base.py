"""What every exercise kind takes and returns: posted form data, a graded Result with its
feedback, the errors it raises, the misconceptions report's verdicts, the demo learner.

A kind module is pure: it reads an exercise and an answer and returns a Result. It never
touches a request, a session or the database, so it can be unit-tested and re-run
(regrade) on stored answers at any time. The interface itself is course.grading.kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
    title: str = ""  # what the rule asks, for the result page (older attempts have none)

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "passed": self.passed, "points": self.points,
                "max_points": self.max_points, "message": self.message, "title": self.title}


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


class AnswerProblem(str):
    """A message for the learner that also names the form field it is about: `field` is
    the id of the control the error summary links to (None: the answer as a whole).

    A str, so every caller that only reads messages keeps working unchanged.
    """

    field: str | None

    def __new__(cls, message: str, field: str | None = None) -> AnswerProblem:
        problem = super().__new__(cls, message)
        problem.field = field
        return problem


class InvalidAnswer(ValueError):
    """The answer does not fit the exercise; `problems` are messages for the learner."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Verdict:
    """How one item of one answer counts in the misconceptions report.

    `mistakes` are the stable classes of error the learner made on the item (the bucket
    or column it was put in, the wrong option ticked): ids from the exercise file, so the
    same mistake always falls in the same class and the report can count them.
    """

    item_id: str
    correct: bool
    mistakes: tuple[str, ...] = ()


class DemoLearner(Protocol):
    """A simulated learner the demo data asks, item by item, what they would answer.

    course.demo implements it (each item has a difficulty and a favourite mistake); each
    kind turns the learner's choices into an answer of its own shape.
    """

    def knows(self, item_id: str) -> bool:
        """Whether the learner gets this item right this time."""
        ...

    def mistake(self, item_id: str, wrong: Sequence[str]) -> str:
        """One of `wrong` (non-empty), usually the learner's favourite mistake."""
        ...

    def write(self, topic: str) -> str:
        """A short piece of learner writing about `topic` (a prompt id or a column)."""
        ...


def result_from(items: Sequence[ItemFeedback], rules: Sequence[RuleFeedback] = ()) -> Result:
    """Total up item credit and rule points into a Result with score in [0, 1]."""
    points = sum(i.credit for i in items) + sum(r.points for r in rules)
    max_points = sum(i.max_credit for i in items) + sum(r.max_points for r in rules)
    score = points / max_points if max_points else 0.0
    return Result(score=min(1.0, max(0.0, score)), points=points, max_points=max_points,
                  items=tuple(items), rules=tuple(rules))
