"""Which steps a learner has finished."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.models import StepProgress
from course.models.timestamps import utcnow
from course.services.learner_keys import note_learner, on_engine, per_engine

# Asked by every signed-in lesson page: built once (see
# course/services/__init__.py).
_IS_COMPLETE = select(StepProgress.id).where(StepProgress.user_id == bindparam("user_id"),
                                            StepProgress.step_id == bindparam("step_id"))


_STEPS = cast(Table, StepProgress.__table__)


def _completing(insert: Callable[[Table], Any]) -> Any:
    return (insert(_STEPS).values(user_id=bindparam("user_id"), step_id=bindparam("step_id"),
                                  completed_at=bindparam("completed_at"))
            .on_conflict_do_nothing(index_elements=[_STEPS.c.user_id, _STEPS.c.step_id])
            .returning(_STEPS.c.id))


# Per engine (each spells INSERT ... ON CONFLICT with its own dialect's insert).
_COMPLETING = per_engine(_completing)


def is_complete(session: Session, user_id: int, step_id: str) -> bool:
    """Whether `user_id` has completed `step_id` (one query)."""
    # On the connection, as the learner's progress: the ORM's execution cost more than the
    # query on a signed-in lesson page. It does not autoflush, and needs not: progress is
    # only written by statements (mark_complete's insert, set_complete's delete).
    return bool(session.connection().execute(
        _IS_COMPLETE, {"user_id": user_id, "step_id": step_id}).first())


def mark_complete(session: Session, user_id: int, step_id: str) -> None:
    """Record `step_id` as done; doing it twice is harmless. Does not commit.

    One statement that inserts the row unless the learner already has it: the check, a
    SAVEPOINT, the insert and its release were four round trips per passing submission,
    and a clash with another tab of the same learner needs no savepoint to recover from.
    """
    session.flush()  # the caller's changes are written first, as they always were
    made = session.connection().execute(on_engine(session, _COMPLETING), {
        "user_id": user_id, "step_id": step_id, "completed_at": utcnow()}).first()
    if made is not None:
        note_learner(session, user_id, steps_done=1)  # the gradebook's completion order


def follow_passes(session: Session, exercise_id: str, passes: Mapping[int, bool]) -> None:
    """Complete the exercise for learners whose attempts now include a pass (True) and
    take the completion back from those whose no longer do (False); does not commit.

    Called by course.services.aggregates.upkeep whenever a learner's "some attempt passed" flips,
    so the step's completion always equals it: a regrade against a kinder pass mark
    completes the step even when no score changed, a stricter one or an override to a
    fail takes it back.
    """
    for user_id, passed in sorted(passes.items()):
        if passed:
            mark_complete(session, user_id, exercise_id)
        else:
            _uncomplete(session, user_id, exercise_id)


def _uncomplete(session: Session, user_id: int, step_id: str) -> None:
    gone = session.execute(delete(StepProgress).where(
        StepProgress.user_id == user_id, StepProgress.step_id == step_id))
    note_learner(session, user_id, steps_done=-cast("CursorResult[Any]", gone).rowcount)


def rebuild_exercise_steps(session: Session, exercise_ids: Collection[str],
                           passed: Collection[tuple[int, str]]) -> None:
    """Make the completions of these exercises exactly the (user id, exercise id) pairs
    in `passed` (what the attempts say; for course.services.aggregates.rebuild, which
    recounts the learners' keys afterwards). Does not commit."""
    have = set(session.execute(select(StepProgress.user_id, StepProgress.step_id).where(
        StepProgress.step_id.in_(list(exercise_ids)))).all())
    passed = set(passed)
    stale = sorted(have - passed)
    if stale:
        session.connection().execute(
            delete(StepProgress).where(StepProgress.user_id == bindparam("uid"),
                                       StepProgress.step_id == bindparam("sid")),
            [{"uid": u, "sid": s} for u, s in stale])
    missing = sorted(passed - have)
    if missing:
        now = utcnow()
        session.execute(insert(StepProgress), [
            {"user_id": u, "step_id": e, "completed_at": now} for u, e in missing])


def set_complete(session: Session, user_id: int, step_id: str, done: bool) -> None:
    """Mark a step done or not done, and commit."""
    if done:
        mark_complete(session, user_id, step_id)
    else:
        _uncomplete(session, user_id, step_id)
    session.commit()
