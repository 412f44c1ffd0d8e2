"""The one grading interface every exercise kind implements, and the only way the rest of
the application reaches a kind (through course.grading.registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from course.content.fields import KindSpec
from course.grading.base import DemoLearner, FormData, Result, Verdict
from course.grading.rubric import Criterion


class ExerciseKind(Protocol):
    """What each exercise kind provides: everything that differs by kind lives in its
    module (course/grading/<kind>.py) and its template partial, and the rest of the
    application reaches it only through this protocol (registry.KINDS is typed with it,
    so the type checker holds every kind module to it).

    `spec` is an instance of the kind's `Spec` model; answers are JSON-able values.
    """

    KIND: str  # the `kind:` of exercise files
    LABEL: str  # what the course outline calls a step of this kind ("Quiz")
    AUTO_GRADED: bool  # False when a person grades the work with a rubric
    PARTIAL: str  # template with macros form(exercise, kind, posted),
    #               answer(report, kind) and item_text(text)
    MISTAKE_NOUN: str  # what a wrong answer is called in reports ("bucket")

    @property
    def Spec(self) -> type[KindSpec]:
        """The kind-specific fields of an exercise file, as a model (course.content.fields);
        read-only here so each kind may name its own subclass."""
        ...

    def is_answer_field(self, name: str) -> bool:
        """Whether the kind's form can post a field called `name` (others are refused)."""
        ...

    def answer_from_form(self, spec: Any, form: FormData) -> Any:
        """Turn posted form fields into this kind's JSON-able answer (no validation)."""
        ...

    def form_from_answer(self, spec: Any, answer: Any) -> dict[str, list[str]]:
        """The form fields that post `answer`: the inverse of `answer_from_form`."""
        ...

    def validate(self, spec: Any, answer: Any) -> list[str]:
        """Every reason this answer cannot be graded; empty when it can."""
        ...

    def grade(self, spec: Any, answer: Any) -> Result:
        """Score a validated answer; InvalidAnswer when `validate` would refuse it."""
        ...

    def model_answer(self, spec: Any) -> Any:
        """The reference answer, in the same shape as a learner's (None if there is none)."""
        ...

    def item_texts(self, spec: Any) -> dict[str, str]:
        """Item id -> the item's text as learners see it (a question's prompt is Markdown)."""
        ...

    def answer_labels(self, spec: Any) -> dict[str, str]:
        """Answer value (bucket, column) -> its label, in board order; {} if not a board."""
        ...

    def item_details(self, spec: Any, item_id: str, given: Sequence[str],
                     show: bool) -> tuple[Any, ...]:
        """Kind-specific parts of an item on the attempt page (a question's options);
        `show` says whether the answer may be revealed."""
        ...

    def classify(self, spec: Any, answer: Any) -> list[Verdict]:
        """The misconceptions report's view of one answer, item by item."""
        ...

    def mistake_label(self, spec: Any, item_id: str, mistake: str) -> str:
        """How the report names a mistake class from `classify`."""
        ...

    def rubric(self, spec: Any) -> Sequence[Criterion]:
        """The criteria a person grades with; empty for automatically graded kinds."""
        ...

    def demo_answer(self, spec: Any, learner: DemoLearner) -> Any:
        """A plausible answer by a simulated learner, for demo data."""
        ...
