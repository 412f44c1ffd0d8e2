"""Certificates of completion: who finished the course, when, and a link that proves it.

The verification link carries the learner's id signed with the app's secret key, so it
needs no table of its own and cannot be guessed or altered; anybody holding it can open
the certificate, and it stops working if the account is deleted or no longer finished.
Nothing here imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.models import Attempt, StepProgress, User
from course.services import attempts, progress
from course.services.standing import CourseStanding, course_standing

_SALT = "certificate-of-completion"


@dataclass(frozen=True)
class Certificate:
    learner_name: str
    completed_on: datetime
    standing: CourseStanding


def token_for(secret: str, user_id: int) -> str:
    """The part of the verification link that names the learner."""
    return URLSafeSerializer(secret, salt=_SALT).dumps(user_id)


def user_id_from(secret: str, token: str) -> int | None:
    """The learner a verification token names; None for anything tampered with."""
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def certificate_for(session: Session, course: Course, user_id: int) -> Certificate | None:
    """The learner's certificate, or None while any step is unfinished (four queries).

    The date is when they finished their last step: the latest completion or attempt.
    """
    user = session.get(User, user_id)
    if user is None:
        return None
    summaries = attempts.exercise_summaries(session, user_id, course)
    where = course_standing(course, progress.completed_steps(session, user_id), summaries)
    if not where.finished:
        return None
    last = session.execute(select(
        select(func.max(StepProgress.completed_at)).where(
            StepProgress.user_id == user_id).scalar_subquery(),
        select(func.max(Attempt.created_at)).where(
            Attempt.user_id == user_id).scalar_subquery())).one()
    dates = [d for d in last if d is not None]
    return Certificate(learner_name=user.display_name,
                       completed_on=max(dates) if dates else user.created_at,
                       standing=where)
