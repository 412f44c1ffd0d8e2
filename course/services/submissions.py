"""Reading submissions for instructors: the queue and one submission with its context.

The queue pages newest first by (created_at, id) with a keyset cursor instead of OFFSET,
so page 2,000 costs what page 1 costs: each page is one indexed range scan of
`ix_attempts_*_created` plus the join to the learner. Every function here runs a fixed
number of queries however many attempts exist. Nothing here imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from course.models import Attempt, ScoreChange, User
from course.models.attempt import AttemptStatus

STATUSES = tuple(s.value for s in AttemptStatus)


class BadCursor(ValueError):
    """A pagination cursor that this module did not write."""


@dataclass(frozen=True)
class Cursor:
    """A position in the queue: the (created_at, id) of a row."""

    created_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        stamp, _, ident = text.rpartition("_")
        try:
            cursor = cls(datetime.fromisoformat(stamp), int(ident))
        except ValueError:
            raise BadCursor(text) from None
        if not 0 < cursor.id < 2**31:  # beyond the id column: a hand-edited link
            raise BadCursor(text)
        return cursor

    @classmethod
    def of(cls, attempt: Attempt) -> Cursor:
        return cls(attempt.created_at, attempt.id)


@dataclass(frozen=True)
class QueueFilters:
    exercise_id: str | None = None
    status: str | None = None
    learner: str | None = None  # matched against name and email, case-insensitively


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, newest first; `newer` / `older` are cursors for the links."""

    attempts: list[Attempt]
    newer: Cursor | None
    older: Cursor | None


def _filtered(filters: QueueFilters) -> Select[Any]:
    query = (select(Attempt).join(Attempt.user).options(contains_eager(Attempt.user)))
    if filters.exercise_id:
        query = query.where(Attempt.exercise_id == filters.exercise_id)
    if filters.status:
        query = query.where(Attempt.status == filters.status)
    if filters.learner:
        query = query.where(or_(User.display_name.icontains(filters.learner, autoescape=True),
                                User.email.icontains(filters.learner, autoescape=True)))
    return query


def submissions_page(session: Session, filters: QueueFilters, page_size: int,
                     after: Cursor | None = None, before: Cursor | None = None) -> QueuePage:
    """The page of attempts just older than `after`, or just newer than `before`
    (the first page when neither is given). One query."""
    key = tuple_(Attempt.created_at, Attempt.id)
    query = _filtered(filters)
    if before is not None:
        # Walk towards the newest rows, then turn the page the right way round.
        rows = list(session.scalars(
            query.where(key > tuple_(before.created_at, before.id))
            .order_by(Attempt.created_at, Attempt.id).limit(page_size + 1)))
        more_newer = len(rows) > page_size
        attempts = rows[:page_size][::-1]
        return QueuePage(attempts,
                         newer=Cursor.of(attempts[0]) if more_newer else None,
                         older=Cursor.of(attempts[-1]) if attempts else before)
    if after is not None:
        query = query.where(key < tuple_(after.created_at, after.id))
    rows = list(session.scalars(
        query.order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(page_size + 1)))
    attempts = rows[:page_size]
    older = Cursor.of(attempts[-1]) if len(rows) > page_size else None
    newer = None
    if after is not None:
        newer = Cursor.of(attempts[0]) if attempts else after
    return QueuePage(attempts, newer=newer, older=older)


@dataclass(frozen=True)
class SubmissionDetail:
    """An attempt with its learner and reviewer, the learner's attempts at the same
    exercise (oldest first, this one included) and its score history (oldest first)."""

    attempt: Attempt
    attempts: list[Attempt]
    history: list[ScoreChange]


def submission_detail(session: Session, attempt_id: int) -> SubmissionDetail | None:
    """Everything the submission page shows, in three queries (None for an unknown id)."""
    reviewer = aliased(User)
    attempt = session.scalar(
        select(Attempt).where(Attempt.id == attempt_id)
        .join(Attempt.user).outerjoin(reviewer, Attempt.reviewer)
        .options(contains_eager(Attempt.user),
                 contains_eager(Attempt.reviewer.of_type(reviewer))))
    if attempt is None:
        return None
    attempts = list(session.scalars(
        select(Attempt).where(Attempt.user_id == attempt.user_id,
                              Attempt.exercise_id == attempt.exercise_id)
        .order_by(Attempt.number, Attempt.id)))
    history = list(session.scalars(
        select(ScoreChange).where(ScoreChange.attempt_id == attempt_id)
        .options(joinedload(ScoreChange.changed_by))
        .order_by(ScoreChange.changed_at, ScoreChange.id)))
    return SubmissionDetail(attempt, attempts, history)
