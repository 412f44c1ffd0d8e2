"""The course as plain, frozen data: what the loader produces and everything else reads.

Nothing here knows about Flask or the database, so views, graders and the CLI share one
picture of the course, built once at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from markupsafe import Markup

CountedAttempt = Literal["highest", "latest"]
Release = Literal["manual", "on_save"]
ModelAnswerWhen = Literal["after_pass", "after_last_attempt", "after_pass_or_last_attempt", "never"]


@dataclass(frozen=True)
class Fact:
    """A fact the course promises to teach and check (declared in course.yaml)."""

    id: str
    text: str
    # "lesson-id#heading-id": where a learner who got this fact wrong should read again
    # (checked on load against the lesson's headings); "" = the top of a lesson teaching it.
    taught_in: str = ""


@dataclass(frozen=True)
class LessonSection:
    """A place in a lesson that a result page links to: "review this"."""

    lesson_id: str
    lesson_title: str
    anchor: str  # heading id, "" for the top of the lesson
    heading: str  # heading text, "" for the top of the lesson


@dataclass(frozen=True)
class Section:
    id: str
    title: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    section: str
    order: int
    minutes: int
    summary: str
    teaches: tuple[str, ...]
    html: Markup  # sanitised by course.content.render
    source_path: str
    kind: Literal["lesson"] = "lesson"
    anchors: Mapping[str, str] = field(default_factory=dict, compare=False)  # id -> heading


@dataclass(frozen=True)
class CertificateRule:
    """When a learner earns the certificate (course.yaml's `certificate`).

    `steps` is "all" or the percentage of the course's steps that must be done (a lesson
    marked complete, an exercise passed); `graded_exercises` "passed" asks every exercise
    to be passed besides, "any" asks nothing more of them. Work awaiting review or
    release never earns one (course.services.standing).
    """

    steps: Literal["all"] | int = "all"
    graded_exercises: Literal["passed", "any"] = "passed"

    def steps_needed(self, total: int) -> int:
        """How many done steps of `total` the rule asks for (rounded up)."""
        return total if self.steps == "all" else -(-total * self.steps // 100)

    @property
    def wording(self) -> str:
        """The rule in words, for the certificate and the completion page."""
        steps = ("every step" if self.steps == "all"
                 else f"at least {self.steps}% of the steps")
        exercises = (" and every graded exercise passed"
                     if self.graded_exercises == "passed" else "")
        return steps + " done" + exercises


@dataclass(frozen=True)
class AttemptPolicy:
    """How many tries a learner gets and which one goes in the gradebook.

    `max_attempts` None means unlimited. `counts` "highest" means a retry never lowers a
    grade. `pass_mark` is a score in [0, 1]. `release` "manual" keeps an instructor's
    review a draft the learner cannot see until someone releases it; "on_save" releases
    it as it is saved (the exercise's own setting, else course.yaml's `release`).
    """

    max_attempts: int | None = None
    counts: CountedAttempt = "highest"
    pass_mark: float = 0.8
    model_answer: ModelAnswerWhen = "after_pass_or_last_attempt"
    release: Release = "manual"


@dataclass(frozen=True)
class Exercise:
    """An exercise file: the common header plus the kind-specific `spec`.

    `spec` is the kind's Spec model (see course.grading); `version` is a hash of what
    grading depends on (the spec without its wording, the kind and the policy), stored with
    each attempt so a form built for another answer key is refused instead of mis-graded.
    """

    id: str
    title: str
    kind: str
    # False for work a person grades: the kind's AUTO_GRADED, copied by the loader so the
    # course data answers without reaching back into the kinds that build on it.
    auto_graded: bool
    section: str
    order: int
    minutes: int
    summary: str
    instructions_html: Markup
    covers: tuple[str, ...]
    policy: AttemptPolicy
    version: str
    source_path: str
    spec: Any = field(compare=False)
    # item, card, question or prompt id -> the facts it checks (its own `covers`)
    item_covers: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)


Step = Lesson | Exercise


@dataclass(frozen=True)
class Course:
    """The whole course, in outline order, with lookups by id."""

    title: str
    description_html: Markup
    sections: tuple[Section, ...]
    facts: tuple[Fact, ...]
    steps: tuple[Step, ...]
    certificate: CertificateRule = CertificateRule()

    def step(self, step_id: str) -> Step | None:
        return self._by_id.get(step_id)

    def lesson(self, step_id: str) -> Lesson | None:
        step = self._by_id.get(step_id)
        return step if isinstance(step, Lesson) else None

    def exercise(self, step_id: str) -> Exercise | None:
        step = self._by_id.get(step_id)
        return step if isinstance(step, Exercise) else None

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(s for s in self.steps if isinstance(s, Exercise))

    @cached_property
    def _by_id(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps}

    def neighbours(self, step_id: str) -> tuple[Step | None, Step | None]:
        """The steps before and after `step_id` in the outline."""
        i = self._positions[step_id]
        return (self.steps[i - 1] if i > 0 else None,
                self.steps[i + 1] if i + 1 < len(self.steps) else None)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.steps)}

    def fact_section(self, fact_id: str) -> LessonSection | None:
        """Where the course teaches `fact_id`: its `taught_in` heading, else the top of
        the first lesson that teaches it, else None."""
        fact = next((f for f in self.facts if f.id == fact_id), None)
        if fact is None:
            return None
        lesson_id, _, anchor = fact.taught_in.partition("#")
        lesson = self.lesson(lesson_id) if lesson_id else next(
            (s for s in self.steps if isinstance(s, Lesson) and fact_id in s.teaches), None)
        if lesson is None:
            return None
        return LessonSection(lesson.id, lesson.title, anchor, lesson.anchors.get(anchor, ""))

    def review_sections(self, exercise: Exercise,
                        item_id: str | None = None) -> tuple[LessonSection, ...]:
        """The lesson sections teaching what an item checks (its own `covers`, else the
        exercise's), without repeats; with no item, those for the whole exercise."""
        if self._by_id.get(exercise.id) is not exercise:  # not this course's: not kept
            return self._sections_teaching(exercise, item_id)
        # Every exercise page and attempt report asks again, and the course never changes.
        key = (exercise.id, item_id)
        found = self._review_sections.get(key)
        if found is None:
            found = self._review_sections[key] = self._sections_teaching(exercise, item_id)
        return found

    def _sections_teaching(self, exercise: Exercise,
                           item_id: str | None) -> tuple[LessonSection, ...]:
        facts: Iterable[str] = (exercise.item_covers.get(item_id) or exercise.covers
                                if item_id is not None else exercise.covers)
        found = (self.fact_section(f) for f in facts)
        return tuple(dict.fromkeys(s for s in found if s is not None))

    @cached_property
    def _review_sections(self) -> dict[tuple[str, str | None], tuple[LessonSection, ...]]:
        return {}

    def by_section(self) -> list[tuple[Section, list[Step]]]:
        return [(sec, [s for s in self.steps if s.section == sec.id]) for sec in self.sections]
