"""Submissions: every attempt at an exercise, and the audit trail of score changes.

An attempt row is never deleted or rewritten by the learner: what they answered, the
exercise version they answered, the automatic score and feedback all stay as submitted.
Instructor review adds to the row (rubric, comment, override) and each score change is
recorded in ScoreChange.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course.models.base import Base
from course.models.timestamps import utcnow
from course.models.user import User


class AttemptStatus(enum.StrEnum):
    AUTO_GRADED = "auto_graded"
    AWAITING_REVIEW = "awaiting_review"
    REVIEWED = "reviewed"


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # A resent form carries the same token: one attempt per token per learner.
        UniqueConstraint("user_id", "submission_token", name="uq_attempts_user_token"),
        # The submissions queue (course.services.submissions) pages by (created_at, id)
        # keyset cursors, each filter on its own index, never OFFSET: all attempts; one
        # exercise; one status, the work list being "awaiting review, no draft"; and
        # "N more after this one". The trailing status and draft_saved_at let the
        # status and draft conditions be checked in the index, without reading each
        # attempt's row (its answer and feedback JSON), so a page or count costs the same
        # however many attempts the filter passes over.
        Index("ix_attempts_created", "created_at", "id", "status", "draft_saved_at"),
        Index("ix_attempts_exercise_created", "exercise_id", "created_at", "id", "status",
              "draft_saved_at"),
        Index("ix_attempts_status_created", "status", "created_at", "id", "draft_saved_at"),
        # One learner's attempts, newest first (the learner page for instructors), and the
        # queue filtered by learner: `user_id IN (learners whose name or email contains
        # the filter) ORDER BY created_at, id` after a cursor, with the exercise, status
        # and draft filters checked in the index (course.services.submissions._narrowed).
        Index("ix_attempts_user_queue", "user_id", "created_at", "id", "exercise_id",
              "status", "draft_saved_at"),
        # Numbers are unique per learner and exercise, so two tabs submitting at once can
        # never both take the last attempt.
        Index("ix_attempts_user_exercise", "user_id", "exercise_id", "number", unique=True),
        # Covers the upkeep of one learner's aggregates (course.services.aggregates: the
        # day of the first pass needs created_at) and the counting of their attempts
        # without reading rows, which on SQLite means not paging through each row's
        # answer and feedback JSON.
        Index("ix_attempts_learner_scores", "user_id", "exercise_id", "number", "score",
              "passed", "status", "created_at"),
        Index("ix_attempts_exercise_status", "exercise_id", "status"),
        # Every unreleased draft, by exercise (the dashboard's drafts, "Release all", the
        # queue's draft filter): only drafts are in it, so reading them all does not grow
        # with the released reviews, and an attempt without a draft costs it nothing.
        Index("ix_attempts_drafts", "exercise_id", "draft_saved_at", "status",
              sqlite_where=text("draft_saved_at IS NOT NULL"),
              postgresql_where=text("draft_saved_at IS NOT NULL")),
        # The learner's exercises with feedback they have not opened, which every signed-in
        # page's header reads (course.services.sign_ins): only unread attempts are in it,
        # so that look-up does not grow with the learner's attempts.
        Index("ix_attempts_unread", "user_id", "exercise_id",
              sqlite_where=text("feedback_unread = 1"),
              postgresql_where=text("feedback_unread = true")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    exercise_version: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    submission_token: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    # The machine's score (None for work a person grades) and its per-item feedback.
    auto_score: Mapped[float | None]
    points: Mapped[float] = mapped_column(default=0.0)
    max_points: Mapped[float] = mapped_column(default=0.0)
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The score that counts: the automatic one unless reviewed or overridden.
    score: Mapped[float | None]
    passed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Instructor review.
    overridden: Mapped[bool] = mapped_column(default=False)
    rubric: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    instructor_feedback: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    feedback_unread: Mapped[bool] = mapped_column(default=False)
    # The learner's own rubric levels for written work ({"levels": {criterion: points}}),
    # shown beside the instructor's review; never counts towards the score.
    self_assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    regraded_at: Mapped[datetime | None]
    # A saved review the learner cannot see yet: rubric, score, passed, overridden,
    # feedback and reason as the instructor left them, until someone releases it.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    draft_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    draft_saved_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    # Bumped on every instructor save; a save that names an older revision is refused.
    revision: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="raise")
    draft_by: Mapped[User | None] = relationship(foreign_keys=[draft_by_id], lazy="raise")


class ScoreChange(Base):
    """Who changed an attempt's score, when, from what to what, and why."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the learner deleted their account: the row stays as the instructors'
    # record, no longer saying whose work it was (services/account_data.py).
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # review | override (released by changed_by) | regrade
    kind: Mapped[str] = mapped_column(String(20))
    old_score: Mapped[float | None]
    new_score: Mapped[float | None]
    reason: Mapped[str] = mapped_column(Text, default="")

    changed_by: Mapped[User | None] = relationship(lazy="raise")
