"""Certificates of completion: issued once a learner finishes, verified by a random id.

A certificate is a row (`models.Certificate`), issued the first time a learner who has
finished every step opens their results. Its verification link carries only a random
public id, so it needs no secret key (rotating the key breaks nothing), says nothing
about other certificates, and can be revoked: `revoke` marks it, and the public page then
says it is no longer valid. Deleting the account deletes it (services.account_data).
Nothing here imports Flask.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import Attempt, Certificate, StepProgress, User
from course.services import attempts
from course.services.standing import CourseStanding, StepState, course_standing

# Long enough to guess no certificate (128 random bits), short enough to print. Hex, not
# token_urlsafe: an id beginning with "-" read as an option to `certificates revoke`.
PUBLIC_ID_BYTES = 16


@dataclass(frozen=True)
class Finished:
    """A learner who has finished the course: what their certificate will say."""

    learner_name: str
    completed_on: datetime
    standing: CourseStanding


def finished(session: Session, course: Course, user_id: int) -> Finished | None:
    """The learner's finish, or None while any step is unfinished (three queries).

    The date is when they finished their last step: the latest completion or attempt.
    """
    user = session.get(User, user_id)
    if user is None:
        return None
    done, summaries = attempts.learner_progress(session, user_id, course)
    where = course_standing(course, done, summaries)
    if not where.finished:
        return None
    last = session.execute(select(
        select(func.max(StepProgress.completed_at)).where(
            StepProgress.user_id == user_id).scalar_subquery(),
        select(func.max(Attempt.created_at)).where(
            Attempt.user_id == user_id).scalar_subquery())).one()
    dates = [d for d in last if d is not None]
    return Finished(learner_name=user.display_name,
                    completed_on=max(dates) if dates else user.created_at,
                    standing=where)


def of_learner(session: Session, user_id: int) -> Certificate | None:
    """The learner's certificate, revoked or not; None if none was issued."""
    return session.scalar(select(Certificate).where(Certificate.user_id == user_id))


def issue(session: Session, course: Course, user_id: int,
          done: Finished) -> Certificate:
    """The learner's certificate, issued now from `done` unless they already have one (a
    revoked one stays revoked: only an instructor decides about it). Commits."""
    existing = of_learner(session, user_id)
    if existing is not None:
        return existing
    certificate = Certificate(
        public_id=secrets.token_hex(PUBLIC_ID_BYTES), user_id=user_id,
        completed_on=done.completed_on, name_at_issue=done.learner_name,
        steps_passed=done.standing.count(StepState.PASSED), steps_total=len(course.steps))
    session.add(certificate)
    try:
        session.commit()
    except IntegrityError:
        # Two tabs finished at once: the other one issued it.
        session.rollback()
        other = of_learner(session, user_id)
        if other is None:
            raise
        return other
    return certificate


def by_public_id(session: Session, public_id: str) -> Certificate | None:
    """The certificate a verification link names (one indexed lookup)."""
    return session.scalar(select(Certificate).where(Certificate.public_id == public_id))


class UnknownCertificate(LookupError):
    """No certificate has that public id."""


def revoke(session: Session, public_id: str, reason: str, now: datetime) -> Certificate:
    """Mark the certificate revoked (kept, so its link says "revoked", not "unknown").
    Revoking it again keeps the first date and reason. Commits."""
    certificate = by_public_id(session, public_id)
    if certificate is None:
        raise UnknownCertificate(public_id)
    if certificate.revoked_at is None:
        certificate.revoked_at = now
        certificate.revoked_reason = reason
        session.commit()
    return certificate


def listing(session: Session) -> list[tuple[Certificate, str | None]]:
    """Every certificate with its learner's email, newest first (for the CLI)."""
    rows = session.execute(
        select(Certificate, User.email).join(User, User.id == Certificate.user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    return [(row[0], row[1]) for row in rows]
