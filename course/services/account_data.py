"""A learner's own data: everything we hold about them, and deleting their account.

What deleting an account does (the README's "Deleting an account" says the same):
- removed: the account (email, name, password hash), its sign-ins, its step progress,
  its certificate of completion (its link then says "not valid"), mail to it still in
  the mail queue (and, deleted by the view, the outbox folder's copies of mail to it:
  course.mail.forget_recipient), and every attempt with its answer, feedback and
  review. Answers are the learner's own
  work and personal data; nothing of them stays;
- kept, anonymised: the audit trail of score changes (`score_changes`). Those rows are
  the instructors' record of what they graded, overrode or regraded, when and why; they
  lose their link to the attempt (attempt_id becomes NULL), so they no longer say whose
  work it was. The instructor's free-text reason is kept as they wrote it;
- an instructor's account can be deleted too: the reviews they wrote (and drafts they
  left) stay on the learners' attempts without a reviewer, and their score changes
  without an author.
Reports and the gradebook are computed from attempts, so the learner simply disappears
from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import (
    Attempt,
    Certificate,
    QueuedMail,
    Role,
    ScoreChange,
    SignIn,
    StepProgress,
    User,
)
from course.services.aggregates import counts, upkeep

EXPORT_FORMAT = "course-account-export/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def export(session: Session, user: User, exported_at: datetime) -> dict[str, Any]:
    """The user's account, progress, every attempt and their certificate, as JSON-ready
    data (3 queries)."""
    progress = session.scalars(
        select(StepProgress).where(StepProgress.user_id == user.id)
        .order_by(StepProgress.completed_at, StepProgress.id)).all()
    attempts = session.scalars(
        select(Attempt).where(Attempt.user_id == user.id)
        .order_by(Attempt.created_at, Attempt.id)).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(exported_at),
        "account": {"email": user.email, "display_name": user.display_name,
                    "role": user.role, "created_at": _iso(user.created_at),
                    "email_on_feedback": user.email_on_feedback},
        "progress": [{"step": p.step_id, "completed_at": _iso(p.completed_at)}
                     for p in progress],
        "attempts": [_attempt(a) for a in attempts],
        "certificate": _certificate(session.scalar(
            select(Certificate).where(Certificate.user_id == user.id))),
    }


def _certificate(c: Certificate | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"id": c.public_id, "issued_at": _iso(c.issued_at),
            "completed_on": _iso(c.completed_on), "name": c.name_at_issue,
            "steps_passed": c.steps_passed, "steps_total": c.steps_total,
            "revoked_at": _iso(c.revoked_at)}


def _attempt(a: Attempt) -> dict[str, Any]:
    reviewed = a.reviewed_at is not None
    return {
        "exercise": a.exercise_id,
        "number": a.number,
        "submitted_at": _iso(a.created_at),
        "exercise_version": a.exercise_version,
        "answer": a.answer,
        "status": a.status,
        "score": a.score,
        "passed": a.passed,
        "automatic_score": a.auto_score,
        "feedback": a.feedback,
        "self_assessment": a.self_assessment,  # the learner's own rubric levels
        # Only what the learner can already see: a draft review stays with the instructor
        # until it is released.
        "review": {"rubric": a.rubric, "comment": a.instructor_feedback,
                   "reviewed_at": _iso(a.reviewed_at), "released_at": _iso(a.released_at),
                   "score_overridden": a.overridden}
                  if reviewed or a.overridden else None,
    }


def delete_account(session: Session, user: User, course: Course) -> None:
    """Delete the user and their data; score-change audit rows stay, anonymised.

    Every step is an explicit statement (the foreign keys' ON DELETE rules say the same),
    so the outcome does not hang on SQLite's foreign-key pragma. One transaction, which
    also takes the learner out of the report aggregates.
    """
    upkeep.forget_learner(session, course, user.id)
    own_attempts = select(Attempt.id).where(Attempt.user_id == user.id)
    session.execute(update(ScoreChange).where(ScoreChange.attempt_id.in_(own_attempts))
                    .values(attempt_id=None))
    session.execute(update(ScoreChange).where(ScoreChange.changed_by_id == user.id)
                    .values(changed_by_id=None))
    session.execute(update(Attempt).where(Attempt.reviewer_id == user.id)
                    .values(reviewer_id=None))
    session.execute(update(Attempt).where(Attempt.draft_by_id == user.id)
                    .values(draft_by_id=None))
    session.execute(delete(Attempt).where(Attempt.user_id == user.id))
    session.execute(delete(StepProgress).where(StepProgress.user_id == user.id))
    session.execute(delete(SignIn).where(SignIn.user_id == user.id))
    session.execute(delete(Certificate).where(Certificate.user_id == user.id))
    # Mail not yet sent to the account is about data that is gone: it goes too.
    session.execute(delete(QueuedMail).where(QueuedMail.recipient == user.email))
    gone = session.execute(delete(User).where(User.id == user.id)
                           .returning(User.role)).scalar()
    if gone == Role.LEARNER.value:
        counts.add_learners(session.connection(), -1)  # the gradebook's count
    session.commit()
