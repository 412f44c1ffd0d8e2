"""Certificates of completion: issued once a learner meets the course's rule, verified by
a random id.

A certificate is a row (`models.Certificate`), issued the first time a learner whose
standing earns it (course.services.standing.certificate_due: the rule in course.yaml, and
no work awaiting review or release) opens their results. It records what it certifies:
the completion date, the steps done and the course score at issue, and the rule in words.

A later change (a regrade against a stricter pass mark or a corrected key, an override,
a lesson marked not complete) can leave the holder no longer meeting the rule. The
certificate is then *kept* as issued: it certified what was true on its date, and a
learner must not lose a certificate they may have shown already because an instructor
changed an exercise. The instructor's page for the learner says so (`note_for_instructor`,
worked out from the standing each time, so it cannot fall out of step), and an
instructor who decides it should not stand revokes it: its public page then says it was
revoked and when, and the reason stays with the record (it may name the learner's
conduct, which is not for whoever holds the link). Its verification link carries only a random
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
from course.services.attempts import reads as attempt_reads
from course.services.standing import Certificate as Certificate_
from course.services.standing import CourseStanding, course_standing

# Long enough to guess no certificate (128 random bits), short enough to print. Hex, not
# token_urlsafe: an id beginning with "-" read as an option to `certificates revoke`.
PUBLIC_ID_BYTES = 16


@dataclass(frozen=True)
class Earned:
    """A learner who has earned the certificate: what it will say."""

    learner_name: str
    completed_on: datetime
    standing: CourseStanding


def earned(session: Session, course: Course, user_id: int) -> Earned | None:
    """What the learner's certificate will say, or None while the course's rule is not
    met or work awaits review (three queries).

    The date is when they finished their last step: the latest completion or attempt.
    """
    user = session.get(User, user_id)
    if user is None:
        return None
    done, summaries = attempt_reads.learner_progress(session, user_id, course)
    where = course_standing(course, done, summaries)
    if where.certificate is not Certificate_.EARNED:
        return None
    last = session.execute(select(
        select(func.max(StepProgress.completed_at)).where(
            StepProgress.user_id == user_id).scalar_subquery(),
        select(func.max(Attempt.created_at)).where(
            Attempt.user_id == user_id).scalar_subquery())).one()
    dates = [d for d in last if d is not None]
    return Earned(learner_name=user.display_name,
                    completed_on=max(dates) if dates else user.created_at,
                    standing=where)


def of_learner(session: Session, user_id: int) -> Certificate | None:
    """The learner's certificate, revoked or not; None if none was issued."""
    return session.scalar(select(Certificate).where(Certificate.user_id == user_id))


def issue(session: Session, course: Course, user_id: int,
          done: Earned) -> Certificate:
    """The learner's certificate, issued now from `done` unless they already have one (a
    revoked one stays revoked: only an instructor decides about it). Commits."""
    existing = of_learner(session, user_id)
    if existing is not None:
        return existing
    certificate = Certificate(
        public_id=secrets.token_hex(PUBLIC_ID_BYTES), user_id=user_id,
        completed_on=done.completed_on, name_at_issue=done.learner_name,
        steps_passed=done.standing.steps_done, steps_total=len(course.steps),
        score=done.standing.score, rule=course.certificate.wording)
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


def note_for_instructor(certificate: Certificate | None, now: CourseStanding) -> str | None:
    """What the instructor's learner page says about a certificate the learner no longer
    earns (kept as issued, see the module's docstring); None when there is nothing to
    say."""
    if certificate is None or certificate.revoked_at is not None:
        return None
    if now.certificate is Certificate_.EARNED:
        return None
    return (f"Certificate {certificate.public_id} was issued on "
            f"{certificate.issued_at:%d %B %Y}, but since then a regrade, review or "
            "change of progress means this learner no longer meets the course's rule. It "
            "is kept as issued; revoke it (flask --app course certificates revoke) if it "
            "should not stand.")


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
