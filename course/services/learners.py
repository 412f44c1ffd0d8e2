"""One learner as an instructor sees them: every step's state, every attempt, every
released review and override, their certificate and when they were last active.

The steps' states, the steps done and the course score are the learner's own standing
(course.services.standing), read as My progress reads it, so the two pages cannot
disagree; the attempts list adds what only an instructor sees (a review drafted but not
released). Nothing here imports Flask.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from course.content.schema import Course, Exercise, Step
from course.models import Attempt, Certificate, ScoreChange, StepProgress, User
from course.services import certificates
from course.services.attempts import reads as attempt_reads
from course.services.standing import CourseStanding, StepState, course_standing


@dataclass(frozen=True)
class StepLine:
    """Where the learner is with one step of the course."""

    step: Step
    state: StepState
    completed_at: datetime | None
    attempts: int
    counted_score: float | None
    draft_review: bool  # a review is drafted and not released: the learner sees none yet

    @property
    def label(self) -> str:
        if self.draft_review and self.state is StepState.AWAITING_REVIEW:
            return "Awaiting release"
        return "Done" if self.state.done and self.step.kind == "lesson" else self.state.label


@dataclass(frozen=True)
class LearnerOverview:
    user: User
    steps: list[StepLine]
    standing: CourseStanding
    attempts: list[Any]  # rows: id, exercise_id, number, status, score, passed, ...
    history: list[tuple[ScoreChange, Any]]  # (change, its attempt row)
    last_active: datetime | None
    certificate: Certificate | None
    certificate_note: str | None  # a kept certificate the learner no longer earns

    @property
    def steps_done(self) -> int:
        return self.standing.steps_done


def learner_overview(session: Session, course: Course, user_id: int) -> LearnerOverview | None:
    """Everything the learner page shows, in six queries (None for an unknown id)."""
    user = session.get(User, user_id)
    if user is None:
        return None
    completed_at = {row.step_id: row.completed_at for row in session.execute(
        select(StepProgress.step_id, StepProgress.completed_at)
        .where(StepProgress.user_id == user_id))}
    done, summaries = attempt_reads.learner_progress(session, user_id, course)
    where = course_standing(course, done, summaries)
    attempts = session.execute(
        select(Attempt.id, Attempt.exercise_id, Attempt.number, Attempt.status,
               Attempt.score, Attempt.passed, Attempt.overridden, Attempt.created_at,
               Attempt.reviewed_at, Attempt.draft_saved_at)
        .where(Attempt.user_id == user_id)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())).all()
    by_id = {a.id: a for a in attempts}
    history = [(change, by_id[change.attempt_id]) for change in session.scalars(
        select(ScoreChange).join(Attempt, Attempt.id == ScoreChange.attempt_id)
        .where(Attempt.user_id == user_id)
        .options(joinedload(ScoreChange.changed_by))
        .order_by(ScoreChange.changed_at.desc(), ScoreChange.id.desc()))
        if change.attempt_id in by_id]
    tried: dict[str, list[Any]] = defaultdict(list)
    for a in attempts:
        tried[a.exercise_id].append(a)
    steps = []
    for step in course.steps:
        summary = summaries.get(step.id) if isinstance(step, Exercise) else None
        mine = tried.get(step.id, [])
        steps.append(StepLine(
            step, where.states[step.id],
            completed_at.get(step.id) if where.states[step.id].done else None, len(mine),
            summary.counted_score if summary else None,
            any(a.draft_saved_at is not None for a in mine)))
    moments = [*completed_at.values(), *(a.created_at for a in attempts[:1])]
    certificate = certificates.of_learner(session, user_id)
    return LearnerOverview(user, steps, where, list(attempts), history,
                           max(moments) if moments else None, certificate,
                           certificates.note_for_instructor(certificate, where))
