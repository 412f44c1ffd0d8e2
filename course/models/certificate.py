"""Certificates of completion: each one an issued record that anyone can verify by its id.

The record is what was certified on the day it was issued (the name, the date, the steps
done, the course score and the rule it met), so the certificate does not change when the
course, the learner's name or a later regrade does. Its public id is random, so one
certificate's address says nothing about another's; an instructor can revoke it, and
deleting the account deletes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from course.models.base import Base
from course.models.timestamps import utcnow


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The verification link's id (32 hex digits: 128 random bits); the page that
    # verifies a certificate looks it up by this unique index.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # One certificate per learner: a revoked one is not issued again by itself.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_on: Mapped[datetime]  # when the learner finished their last step
    name_at_issue: Mapped[str] = mapped_column(String(80))  # as User.display_name
    steps_passed: Mapped[int]
    steps_total: Mapped[int]
    # The course score when issued (0 to 1) and the course's rule in words; None on the
    # certificates issued before they were recorded.
    score: Mapped[float | None]
    rule: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
