"""The shape of the files an author writes, apart from each kind's own fields.

`course.yaml`, a lesson's front matter and the common part of every exercise file (its
envelope); the kind-specific part is the `Spec` model in the kind's module under
course.grading, and `exercise_file_model` joins the two so an unknown field anywhere in
an exercise file is refused with the list of fields allowed there.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from course.content.fields import (
    WORDING,
    Block,
    FactIds,
    Id,
    Number,
    Text,
    WholeNumber,
    Wording,
)
from course.content.schema import Release


class FactEntry(Block):
    id: Id
    text: Text
    # "lesson-id#heading-id": the section a result page sends a learner back to when they
    # get this fact wrong (checked against the lessons once they are loaded)
    taught_in: str = ""


class SectionEntry(Block):
    id: Id
    title: Text


def _steps_rule(value: object) -> Literal["all"] | int:
    if value == "all":
        return "all"
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        return value
    raise PydanticCustomError("steps_rule", "{value} is not `all` or a percentage of the "
                              "steps from 1 to 100", {"value": repr(value)})


class CertificateEntry(Block):
    """course.yaml's `certificate`: see course.content.schema.CertificateRule."""

    steps: Annotated[Literal["all"] | int, PlainValidator(_steps_rule)] = "all"
    graded_exercises: Literal["passed", "any"] = "passed"


class CourseFile(Block):
    """course.yaml: the title, the outline's sections and the facts the course promises,
    and when instructors' reviews reach learners in any exercise that does not say
    (`policy.release` in an exercise file overrides it)."""

    title: Text
    description: str = ""
    sections: Annotated[tuple[SectionEntry, ...], Field(min_length=1)]
    facts: tuple[FactEntry, ...] = ()
    release: Release = "manual"
    certificate: CertificateEntry = CertificateEntry()


def _known_section(value: str, info: ValidationInfo) -> str:
    sections = (info.context or {}).get("sections")
    if sections is not None and value not in sections:
        raise PydanticCustomError("unknown_section", "{value} is not a section of "
                                  "course.yaml (the sections are: {valid})",
                                  {"value": repr(value), "valid": ", ".join(sorted(sections))})
    return value


class StepHeader(Block):
    """What lessons and exercises share: where they sit in the outline and how long they take."""

    id: Id
    title: Wording
    section: Annotated[str, AfterValidator(_known_section)]
    order: Annotated[WholeNumber, Field(ge=0)]
    minutes: Annotated[WholeNumber, Field(ge=1)]
    summary: Wording


class LessonHeader(StepHeader):
    """A lesson's front matter (the block between the two `---` lines)."""

    teaches: FactIds = ()


class Policy(Block):
    """How many tries a learner gets and which one counts (see AttemptPolicy)."""

    max_attempts: Annotated[WholeNumber, Field(ge=1)] | None = None
    counts: Literal["highest", "latest"] = "highest"
    pass_mark: Annotated[Number, Field(ge=0, le=1)] = 0.8
    model_answer: Literal["after_pass", "after_last_attempt", "after_pass_or_last_attempt",
                          "never"] = "after_pass_or_last_attempt"
    # When learners see a review; None follows course.yaml's `release`. Grading never
    # looks at it, so it is outside the version.
    release: Annotated[Release | None, WORDING] = None


class ExerciseEnvelope(StepHeader):
    """The fields every exercise file has, whatever its kind."""

    kind: str
    covers: FactIds
    instructions: str = ""
    policy: Policy = Policy()


@cache
def exercise_file_model(spec_model: type[Block]) -> type[Block]:
    """One model for a whole exercise file of a kind: the envelope plus the kind's Spec."""
    return type(f"{spec_model.__name__}File", (ExerciseEnvelope, spec_model), {})
