"""Which steps a learner has finished."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from course.models import StepProgress
from course.services.aggregates import note_learner

# Asked by the course home, My progress and every lesson: built once (see
# course/services/__init__.py).
_COMPLETED = select(StepProgress.step_id).where(StepProgress.user_id == bindparam("user_id"))
_IS_COMPLETE = select(StepProgress.id).where(StepProgress.user_id == bindparam("user_id"),
                                            StepProgress.step_id == bindparam("step_id"))


def completed_steps(session: Session, user_id: int) -> set[str]:
    """Ids of the steps `user_id` has completed (one query)."""
    # On the connection: plain values need none of the ORM's result handling.
    return set(session.connection().scalars(_COMPLETED, {"user_id": user_id}))


def is_complete(session: Session, user_id: int, step_id: str) -> bool:
    """Whether `user_id` has completed `step_id` (one query)."""
    # On the connection, as completed_steps: the ORM's execution cost more than the query
    # on a signed-in lesson page. It does not autoflush, and needs not: progress is only
    # written by mark_complete (flushed by its savepoint) and set_complete (a statement).
    return session.connection().scalar(
        _IS_COMPLETE, {"user_id": user_id, "step_id": step_id}) is not None


def mark_complete(session: Session, user_id: int, step_id: str) -> None:
    """Record `step_id` as done; doing it twice is harmless. Does not commit."""
    if is_complete(session, user_id, step_id):
        return
    try:
        with session.begin_nested():
            session.add(StepProgress(user_id=user_id, step_id=step_id))
    except IntegrityError:  # the same learner completed it in another tab just now
        return
    note_learner(session, user_id, steps_done=1)  # the gradebook's completion order


def set_complete(session: Session, user_id: int, step_id: str, done: bool) -> None:
    """Mark a step done or not done, and commit."""
    if done:
        mark_complete(session, user_id, step_id)
    else:
        gone = session.execute(delete(StepProgress).where(
            StepProgress.user_id == user_id, StepProgress.step_id == step_id))
        note_learner(session, user_id, steps_done=-cast("CursorResult[Any]", gone).rowcount)
    session.commit()
