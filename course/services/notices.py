"""Mail about grading: "your feedback is out" to learners, "what awaits review" to
instructors. Who gets which message and what it says; sending is the caller's (through
the mail queue, `services.mail_queue`). Nothing here imports Flask: links are built by
the caller and passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import Attempt, Role, User
from course.models.attempt import AttemptStatus
from course.services.mail_queue import Message
from course.services.release import Released

_FEEDBACK_BODY = """Hello {name},

Your instructor has reviewed your attempt {number} at "{exercise}" in {course}.
Read their feedback and your score here:

{link}

You get this message because feedback emails are on for your account; you can turn
them off on your account page: {account_link}
"""


def feedback_messages(session: Session, course: Course, released: Sequence[Released],
                      attempt_link: Callable[[int], str], account_link: str) -> list[Message]:
    """One message per released review whose learner keeps feedback emails on (one query
    for all of them, however many were released)."""
    if not released:
        return []
    wanted = {user.id: user for user in session.scalars(
        select(User).where(User.id.in_({r.user_id for r in released}),
                           User.email_on_feedback.is_(True)))}
    messages = []
    for r in released:
        learner = wanted.get(r.user_id)
        exercise = course.exercise(r.exercise_id)
        if learner is None:
            continue
        title = exercise.title if exercise else r.exercise_id
        messages.append(Message(
            learner.email, f"Feedback on \u201c{title}\u201d is ready",
            _FEEDBACK_BODY.format(name=learner.display_name, number=r.number, exercise=title,
                                  course=course.title, link=attempt_link(r.attempt_id),
                                  account_link=account_link)))
    return messages


@dataclass(frozen=True)
class Waiting:
    """One exercise's work for instructors: submissions to grade, drafts to release."""

    exercise_id: str
    title: str
    to_grade: int
    drafts: int
    oldest: datetime | None  # the oldest submission still to grade


def awaiting_review(session: Session, course: Course) -> list[Waiting]:
    """Per exercise with work waiting, in course order (one grouped query over
    ix_attempts_exercise_status)."""
    to_grade = (Attempt.status == AttemptStatus.AWAITING_REVIEW.value) & \
        Attempt.draft_saved_at.is_(None)
    rows = session.execute(
        select(Attempt.exercise_id,
               func.count().filter(to_grade),
               func.count().filter(Attempt.draft_saved_at.is_not(None)),
               func.min(Attempt.created_at).filter(to_grade))
        .where((Attempt.status == AttemptStatus.AWAITING_REVIEW.value)
               | Attempt.draft_saved_at.is_not(None))
        .group_by(Attempt.exercise_id)).all()
    by_id = {row[0]: row for row in rows}
    order = [e.id for e in course.exercises] + sorted(set(by_id) - {
        e.id for e in course.exercises})
    waiting = []
    for exercise_id in order:
        if exercise_id in by_id:
            _, grade, drafts, oldest = by_id[exercise_id]
            exercise = course.exercise(exercise_id)
            waiting.append(Waiting(exercise_id, exercise.title if exercise else exercise_id,
                                   grade, drafts, oldest))
    return waiting


def instructors(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.INSTRUCTOR.value)
                                .order_by(User.id)))


def summary_text(course: Course, waiting: Sequence[Waiting], now: datetime,
                 queue_link: str) -> str:
    """The daily summary's body: per exercise, how many to grade (and for how long the
    oldest has waited) and how many drafts to release."""
    lines = [f"Work waiting in {course.title} on {now:%d %b %Y}:", ""]
    for w in waiting:
        parts = []
        if w.to_grade:
            days = (now - w.oldest).days if w.oldest else 0
            parts.append(f"{w.to_grade} to grade (oldest waiting {days} "
                         f"day{'' if days == 1 else 's'})")
        if w.drafts:
            parts.append(f"{w.drafts} draft review{'' if w.drafts == 1 else 's'} to release")
        lines.append(f"- {w.title}: {'; '.join(parts)}")
    lines += ["", f"The queue, awaiting review, oldest first: {queue_link}", ""]
    return "\n".join(lines)
