"""The drift check: every value kept in step with the attempts compared with a rebuild.

The report aggregates, the gradebook's sort keys and the number of learners, and the
exercises' completions (step_progress) are each written by the change that causes them
(course.services.aggregates, course.services.progress). `differences` snapshots them,
rebuilds them from the attempts inside the same transaction, snapshots again and rolls
the rebuild back, so checking changes nothing (`flask --app course check-aggregates`,
and the property test in tests/test_aggregates.py).

Certificates keep no derived value to drift: whether a holder still earns theirs is
worked out from the standing whenever it is shown (course.services.certificates), so
`kept_certificates` lists those a later change no longer supports, as information.
Nothing here imports Flask.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import (
    Certificate,
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerExercise,
    StepProgress,
    User,
)
from course.services import certificates
from course.services.aggregates import counts, rebuild
from course.services.attempts import reads as attempt_reads
from course.services.standing import course_standing

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(session: Session) -> Snapshot:
    """Every maintained row, in a stable order (item counts of zero are no answers)."""
    session.expire_all()

    def rows(model: Any, *order: Any, where: Any = None) -> list[tuple[Any, ...]]:
        query = select(*model.__table__.columns).order_by(*order)
        if where is not None:
            query = query.where(where)
        return [tuple(r) for r in session.execute(query)]

    return {
        "learners": rows(LearnerExercise, LearnerExercise.user_id, LearnerExercise.exercise_id),
        # An exercise whose attempts all went with deleted accounts keeps a row of zeros.
        "exercises": rows(ExerciseTotals, ExerciseTotals.exercise_id,
                          where=ExerciseTotals.attempts != 0),
        "items": rows(ItemOutcome, ItemOutcome.exercise_id, ItemOutcome.item_id,
                      ItemOutcome.outcome, where=ItemOutcome.count != 0),
        # A day whose attempts all went with a deleted account keeps a row of zeros.
        "days": rows(DailyActivity, DailyActivity.day, DailyActivity.exercise_id,
                     where=(DailyActivity.attempts != 0) | (DailyActivity.completions != 0)),
        # The gradebook's sort keys, kept on each account, and the number of learners.
        "learner keys": [tuple(r) for r in session.execute(
            select(User.id, User.score_sum, User.awaiting, User.steps_done)
            .order_by(User.id))],
        "learner count": [(counts.learner_count(session),)],
        # Which steps each learner completed (when is not rebuilt: only whether).
        "step progress": [tuple(r) for r in session.execute(
            select(StepProgress.user_id, StepProgress.step_id)
            .order_by(StepProgress.user_id, StepProgress.step_id))],
    }


def same(kept: Any, rebuilt: Any) -> bool:
    """Equal, allowing the float rounding of a running sum of scores."""
    if isinstance(kept, float) and isinstance(rebuilt, float):
        return math.isclose(kept, rebuilt, abs_tol=1e-9)
    if isinstance(kept, (list, tuple)):
        return len(kept) == len(rebuilt) and all(map(same, kept, rebuilt))
    return bool(kept == rebuilt)


def compare(kept: Snapshot, rebuilt: Snapshot) -> list[str]:
    """One line per row kept but not rebuilt, or rebuilt but not kept."""
    found = []
    for table in kept:
        if same(kept[table], rebuilt[table]):
            continue
        lines = [f"{table}: kept {row}, not in the rebuild"
                 for row in sorted(set(kept[table]) - set(rebuilt[table]), key=repr)]
        lines += [f"{table}: the rebuild has {row}, not kept"
                  for row in sorted(set(rebuilt[table]) - set(kept[table]), key=repr)]
        # Equal as sets, different as lists: repeated rows, or sums apart in rounding.
        found += lines or [f"{table}: the rows differ in number or rounding"]
    return found


def differences(session: Session, course: Course) -> list[str]:
    """Every difference between the kept values and a rebuild from the attempts (none
    when they agree). Rolls back: nothing is changed."""
    session.rollback()
    kept = snapshot(session)
    try:
        rebuild.rebuild_uncommitted(session, course)
        rebuilt = snapshot(session)
    finally:
        session.rollback()
    return compare(kept, rebuilt)


def kept_certificates(session: Session, course: Course) -> list[str]:
    """Certificates not revoked whose holder no longer earns one (each is kept as
    issued, see course.services.certificates): one line each."""
    lines = []
    for certificate in session.scalars(select(Certificate).where(
            Certificate.revoked_at.is_(None)).order_by(Certificate.id)):
        done, summaries = attempt_reads.learner_progress(session, certificate.user_id, course)
        note = certificates.note_for_instructor(certificate,
                                                course_standing(course, done, summaries))
        if note is not None:
            lines.append(f"learner {certificate.user_id}: {note}")
    return lines
