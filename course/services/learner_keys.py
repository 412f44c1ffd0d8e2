"""Each learner's gradebook sort keys (on their account), added to as a transaction
commits and rebuilt with the aggregates, and the per-engine spelling of the upkeep's
upserts.

Apart from the aggregates (course.services.aggregates) so that course.services.progress,
which their upkeep calls to keep each exercise's completion, can note a learner's keys
too without importing them back. The keys are taken last in the lock order
(course.services.aggregates.locks). Nothing here imports Flask.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Float, Integer, Table, bindparam, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from course.models import LearnerExercise, StepProgress, User


def per_engine(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """`build(insert)` for PostgreSQL's and SQLite's insert, by dialect name (also for
    course.services.progress)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def on_engine(session: Session, statements: Mapping[str, Any]) -> Any:
    """The statement of `per_engine` for the engine the session is on."""
    name = session.get_bind().dialect.name
    return statements["postgresql" if name == "postgresql" else "sqlite"]


# ------------------------------------------------------- the gradebook's sort keys

# Each learner's gradebook sort keys (User.score_sum, awaiting, steps_done) change with
# every exercise they work on, so a change to one exercise would lock a row that changes
# to others lock too. To keep that from deadlocking (a regrade or a release of many
# learners against a submission), the changes are noted as the transaction goes and
# applied when it commits, after every other lock it takes, learner by learner in id
# order: one statement, whichever path made the change.
_PENDING = "course_learner_keys"
_USERS = typing.cast(Table, User.__table__)
_ADD_LEARNER_KEYS = (update(_USERS).where(_USERS.c.id == bindparam("uid"))
                     .values(score_sum=_USERS.c.score_sum + bindparam("d_score", type_=Float),
                             awaiting=_USERS.c.awaiting + bindparam("d_awaiting", type_=Integer),
                             steps_done=_USERS.c.steps_done + bindparam("d_steps",
                                                                        type_=Integer)))


def note_learner(session: Session, user_id: int, *, score_sum: float = 0.0,
                 awaiting: int = 0, steps_done: int = 0) -> None:
    """Add to a learner's gradebook sort keys when the session's transaction commits."""
    if not (score_sum or awaiting or steps_done):
        return
    session.connection()  # in a transaction, so that its rollback drops the note too
    pending: dict[int, list[float]] = session.info.setdefault(_PENDING, {})
    keys = pending.setdefault(user_id, [0.0, 0, 0])
    keys[0] += score_sum
    keys[1] += awaiting
    keys[2] += steps_done


@event.listens_for(Session, "before_commit")
def _apply_learner_keys(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the transaction goes on
        return
    pending: dict[int, list[float]] | None = session.info.pop(_PENDING, None)
    if pending:
        session.execute(_ADD_LEARNER_KEYS, [
            {"uid": uid, "d_score": score, "d_awaiting": awaiting, "d_steps": steps}
            for uid, (score, awaiting, steps) in sorted(pending.items())])


@event.listens_for(Session, "after_transaction_end")
def _forget_learner_keys(session: Session, transaction: Any) -> None:
    """Notes of a transaction that ended without its commit (rolled back, or the session
    closed) are dropped with it (after a commit there are none left)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


_REBUILD_LEARNER_KEYS = update(User).values(
    score_sum=func.coalesce(select(func.sum(LearnerExercise.score))
                            .where(LearnerExercise.user_id == User.id).scalar_subquery(), 0.0),
    awaiting=select(func.count()).where(LearnerExercise.user_id == User.id,
                                        LearnerExercise.score.is_(None)).scalar_subquery(),
    steps_done=select(func.count()).where(StepProgress.user_id == User.id)
    .scalar_subquery()).execution_options(synchronize_session=False)


def rebuild_keys(session: Session) -> None:
    """Recompute every learner's keys from their exercise rows and completed steps, once
    those are rebuilt (course.services.aggregates.rebuild), dropping the keys noted so
    far in this transaction, which the recount includes."""
    session.info.pop(_PENDING, None)
    session.execute(_REBUILD_LEARNER_KEYS)
