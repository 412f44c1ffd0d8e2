"""One learner as an instructor sees them: every step's state, every attempt, every
released review and override, and when they were last active.

Four queries whatever the learner has done: the learner, their completed steps, their
attempts (without answers or feedback JSON, which this page never shows) and their
score history with who changed it. Nothing here imports Flask.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from course.content.schema import AttemptPolicy, Course, Exercise, Step
from course.models import Attempt, ScoreChange, StepProgress, User
from course.models.attempt import AttemptStatus


@dataclass(frozen=True)
class StepState:
    """Where the learner is with one step of the course."""

    step: Step
    done: bool
    completed_at: datetime | None
    attempts: int
    counted_score: float | None
    state: str  # done | not started | awaiting review | draft review | not passed | read


@dataclass(frozen=True)
class LearnerOverview:
    user: User
    steps: list[StepState]
    attempts: list[Any]  # rows: id, exercise_id, number, status, score, passed, ...
    history: list[tuple[ScoreChange, Any]]  # (change, its attempt row)
    last_active: datetime | None

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.done)


def _counted_score(tried: list[Any], policy: AttemptPolicy) -> float | None:
    """The score the gradebook counts: the best ("highest") or the newest scored attempt
    ("latest"); None while nothing is scored (written work awaiting review)."""
    scored = [a for a in tried if a.score is not None]
    if not scored:
        return None
    chosen: float | None = (max(scored, key=lambda a: a.number).score
                            if policy.counts == "latest" else max(a.score for a in scored))
    return chosen


def _state(step: Step, done: bool, tried: list[Any]) -> str:
    if not isinstance(step, Exercise):
        return "done" if done else "not started"
    if not tried:
        return "not started"
    if any(a.draft_saved_at is not None for a in tried):
        return "draft review"
    if any(a.status == AttemptStatus.AWAITING_REVIEW for a in tried):
        return "awaiting review"
    return "passed" if any(a.passed for a in tried) else "not passed"


def learner_overview(session: Session, course: Course, user_id: int) -> LearnerOverview | None:
    """Everything the learner page shows, in four queries (None for an unknown id)."""
    user = session.get(User, user_id)
    if user is None:
        return None
    completed = {row.step_id: row.completed_at for row in session.execute(
        select(StepProgress.step_id, StepProgress.completed_at)
        .where(StepProgress.user_id == user_id))}
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
        mine = tried.get(step.id, [])
        counted = _counted_score(mine, step.policy) if isinstance(step, Exercise) else None
        steps.append(StepState(step, step.id in completed, completed.get(step.id), len(mine),
                               counted, _state(step, step.id in completed, mine)))
    moments = [*completed.values(), *(a.created_at for a in attempts[:1])]
    return LearnerOverview(user, steps, list(attempts), history,
                           max(moments) if moments else None)
