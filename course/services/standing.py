"""Where a learner stands: the one definition of a step done, an exercise passed, work
awaiting review (or release), the course score and whether the certificate is earned.

Pure functions over what `attempts.reads.learner_progress` reads (lessons marked complete and
the kept summary of every exercise tried), so the course outline, My progress, the
completion page, the certificate and the instructor's learner page say the same thing
and add no queries of their own. A step is *done* when it is PASSED: a lesson marked
complete, an exercise with a passing attempt. That is also exactly when it has a
step_progress row (kept by course.services.aggregates with the learner's exercise row),
so the gradebook's completion, read from those rows, counts the same steps.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from course.content.schema import CertificateRule, Course, Exercise, Section, Step
from course.services.attempts.policy import attempts_left
from course.services.attempts.reads import Summary


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
    def done(self) -> bool:
        """The step counts as done: a lesson marked complete, an exercise passed."""
        return self is StepState.PASSED

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
    passes (its completion row is a copy of that, never read here); awaiting review while
    written work waits for a grade or its release; done, not passed when every attempt is
    used; in progress after a first attempt."""
    if not isinstance(step, Exercise):
        return StepState.PASSED if step.id in completed else StepState.NOT_STARTED
    if summary is None:
        return StepState.NOT_STARTED
    if summary.passed:
        return StepState.PASSED
    if summary.awaiting_review:
        return StepState.AWAITING_REVIEW
    if attempts_left(step.policy, summary.attempts_used) == 0:
        return StepState.DONE_NOT_PASSED
    return StepState.IN_PROGRESS


class Certificate(enum.StrEnum):
    """What the course's certificate rule makes of a standing."""

    EARNED = "earned"
    ALMOST = "almost"  # earned once the work awaiting review passes
    NOT_YET = "not_yet"


@dataclass(frozen=True)
class CourseStanding:
    """Every step's state plus what follows from them."""

    states: Mapping[str, StepState]
    next_step: Step | None  # the first unfinished step in outline order; None when finished
    score: float  # the course score: counted scores over every exercise (gradebook's total)
    certificate: Certificate

    @property
    def finished(self) -> bool:
        return self.next_step is None

    @property
    def steps_done(self) -> int:
        return self.count(StepState.PASSED)

    @property
    def steps_left(self) -> int:
        """Steps that still ask something of the learner (not finished)."""
        return sum(1 for s in self.states.values() if not s.finished)

    @property
    def awaiting_review(self) -> int:
        """Exercises whose work waits for an instructor's review or its release."""
        return self.count(StepState.AWAITING_REVIEW)

    def count(self, *states: StepState) -> int:
        return sum(1 for s in self.states.values() if s in states)


def course_standing(course: Course, completed: set[str],
                    summaries: Mapping[str, Summary]) -> CourseStanding:
    states = {s.id: step_state(s, completed, summaries.get(s.id)) for s in course.steps}
    following = next((s for s in course.steps if not states[s.id].finished), None)
    scores = [found.counted_score for e in course.exercises
              if (found := summaries.get(e.id)) is not None and found.counted_score is not None]
    score = sum(scores) / len(course.exercises) if course.exercises else 0.0
    return CourseStanding(states=states, next_step=following, score=score,
                          certificate=certificate_due(course, states))


def certificate_due(course: Course, states: Mapping[str, StepState]) -> Certificate:
    """The course's rule (course.yaml `certificate`) applied to the steps' states: earned
    when met with nothing awaiting review; almost there when the work awaiting review
    would meet it by passing; not yet otherwise."""
    # Counting work awaiting review as passed can only meet the rule more often, so the
    # rule met that way with nothing awaiting review is the rule met outright.
    if not _meets(course.certificate, course, states):
        return Certificate.NOT_YET
    if any(s is StepState.AWAITING_REVIEW for s in states.values()):
        return Certificate.ALMOST
    return Certificate.EARNED


def _meets(rule: CertificateRule, course: Course, states: Mapping[str, StepState]) -> bool:
    """The rule, counting work awaiting review as if it passed."""
    counted = (StepState.PASSED, StepState.AWAITING_REVIEW)
    done = sum(1 for s in course.steps if states[s.id] in counted)
    if done < rule.steps_needed(len(course.steps)):
        return False
    return rule.graded_exercises == "any" or all(
        states[e.id] in counted for e in course.exercises)


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
