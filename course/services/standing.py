"""Where a learner stands: the state of each step, the step to continue with, and
whether the course is finished.

Pure functions over what `attempts.learner_progress` already reads (steps completed and
exercise summaries), so the course home, My progress and the completion page agree on one
definition and add no queries of their own.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from course.content.schema import Course, Exercise, Section, Step
from course.services.attempts import Summary, attempts_left


class StepState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AWAITING_REVIEW = "awaiting_review"
    PASSED = "passed"  # for a lesson: marked as complete
    DONE_NOT_PASSED = "done_not_passed"  # every attempt used without a pass

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def finished(self) -> bool:
        """Nothing more is asked of the learner on this step (a review may still come)."""
        return self in (StepState.PASSED, StepState.DONE_NOT_PASSED,
                        StepState.AWAITING_REVIEW)


_LABELS = {
    StepState.NOT_STARTED: "Not started",
    StepState.IN_PROGRESS: "In progress",
    StepState.AWAITING_REVIEW: "Awaiting review",
    StepState.PASSED: "Passed",
    StepState.DONE_NOT_PASSED: "Done, not passed",
}


def step_state(step: Step, completed: set[str], summary: Summary | None) -> StepState:
    """A lesson is passed once marked complete. An exercise is passed once any attempt
    passes; awaiting review while written work waits for a grade; done, not passed when
    every attempt is used; in progress after a first attempt."""
    if not isinstance(step, Exercise) or summary is None:
        return StepState.PASSED if step.id in completed else StepState.NOT_STARTED
    if summary.passed:
        return StepState.PASSED
    if summary.awaiting_review:
        return StepState.AWAITING_REVIEW
    if attempts_left(step.policy, summary.attempts_used) == 0:
        return StepState.DONE_NOT_PASSED
    return StepState.IN_PROGRESS


@dataclass(frozen=True)
class CourseStanding:
    """Every step's state plus what follows from them."""

    states: Mapping[str, StepState]
    next_step: Step | None  # the first unfinished step in outline order; None when finished

    @property
    def finished(self) -> bool:
        return self.next_step is None

    def count(self, *states: StepState) -> int:
        return sum(1 for s in self.states.values() if s in states)


def course_standing(course: Course, completed: set[str],
             summaries: Mapping[str, Summary]) -> CourseStanding:
    states = {s.id: step_state(s, completed, summaries.get(s.id)) for s in course.steps}
    following = next((s for s in course.steps if not states[s.id].finished), None)
    return CourseStanding(states=states, next_step=following)


@dataclass(frozen=True)
class SectionResult:
    """One section on the completion page: its steps with state and counted score."""

    section: Section
    rows: tuple[tuple[Step, StepState, float | None], ...]


def section_results(course: Course, standing: CourseStanding,
                    summaries: Mapping[str, Summary]) -> tuple[SectionResult, ...]:
    return tuple(
        SectionResult(section, tuple(
            (step, standing.states[step.id],
             summaries[step.id].counted_score if step.id in summaries else None)
            for step in steps))
        for section, steps in course.by_section() if steps)
