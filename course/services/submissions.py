"""Reading submissions for instructors: the queue and one submission with its context.

The queue pages oldest or newest first by (created_at, id) with a keyset cursor instead
of OFFSET, so page 2,000 costs what page 1 costs: each page is one indexed range scan of
`ix_attempts_*_created` plus the join to the learner. Every function here runs a fixed
number of queries however many attempts exist. Nothing here imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from course.models import Attempt, ScoreChange, User
from course.models.attempt import AttemptStatus


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


DRAFT = "draft"  # a queue filter, not an attempt status: reviewed, not yet released
OLDEST, NEWEST = "oldest", "newest"


@dataclass(frozen=True)
class QueueFilters:
    """Which attempts the queue lists, and in which order. The default is the
    instructor's work list: written work nobody has reviewed yet, oldest first."""

    exercise_id: str | None = None
    status: str | None = None  # an AttemptStatus value or DRAFT
    learner: str | None = None  # matched against name and email, case-insensitively
    order: str = OLDEST

    @property
    def oldest_first(self) -> bool:
        return self.order != NEWEST


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue in its order; cursors for the previous and next pages."""

    attempts: list[Attempt]
    previous: Cursor | None
    next: Cursor | None


def _filtered(filters: QueueFilters, query: Select[Any] | None = None) -> Select[Any]:
    """The queue's attempts with their learner, or `query` narrowed by the same filters
    (joining the learner only to match a name: a count then reads one index alone)."""
    if query is None:
        query = select(Attempt).join(Attempt.user).options(contains_eager(Attempt.user))
    elif filters.learner:
        query = query.join(Attempt.user)
    if filters.exercise_id:
        query = query.where(Attempt.exercise_id == filters.exercise_id)
    if filters.status == DRAFT:
        query = query.where(Attempt.draft_saved_at.is_not(None))
    elif filters.status:
        query = query.where(Attempt.status == filters.status)
        if filters.status == AttemptStatus.AWAITING_REVIEW:
            query = query.where(Attempt.draft_saved_at.is_(None))
    if filters.learner:
        query = query.where(or_(User.display_name.icontains(filters.learner, autoescape=True),
                                User.email.icontains(filters.learner, autoescape=True)))
    return query


def _in_order(query: Select[Any], forward: bool) -> Select[Any]:
    if forward:
        return query.order_by(Attempt.created_at, Attempt.id)
    return query.order_by(Attempt.created_at.desc(), Attempt.id.desc())


def _beyond(cursor: Cursor, forward: bool) -> Any:
    """Rows after `cursor` when walking oldest-to-newest (`forward`), else before it."""
    key = tuple_(Attempt.created_at, Attempt.id)
    mark = tuple_(cursor.created_at, cursor.id)
    return key > mark if forward else key < mark


def submissions_page(session: Session, filters: QueueFilters, page_size: int,
                     after: Cursor | None = None, before: Cursor | None = None) -> QueuePage:
    """The page of attempts just after `after` in the queue's order, or just before
    `before` (the first page when neither is given). One query."""
    forward = filters.oldest_first
    query = _filtered(filters)
    if before is not None:
        # Walk back towards the start, then turn the page the right way round.
        rows = list(session.scalars(_in_order(query.where(_beyond(before, not forward)),
                                              not forward).limit(page_size + 1)))
        attempts = rows[:page_size][::-1]
        return QueuePage(attempts,
                         previous=Cursor.of(attempts[0]) if len(rows) > page_size else None,
                         next=Cursor.of(attempts[-1]) if attempts else before)
    if after is not None:
        query = query.where(_beyond(after, forward))
    rows = list(session.scalars(_in_order(query, forward).limit(page_size + 1)))
    attempts = rows[:page_size]
    following = Cursor.of(attempts[-1]) if len(rows) > page_size else None
    previous = None
    if after is not None:
        previous = Cursor.of(attempts[0]) if attempts else after
    return QueuePage(attempts, previous=previous, next=following)


# "N more after this one" counts up to this many; beyond it the page says "N or more",
# so the count costs the same however long the queue grows.
REMAINING_CAP = 1000


@dataclass(frozen=True)
class QueuePosition:
    """Where one attempt sits in a queue: its neighbours and how many come after it."""

    previous_id: int | None
    next_id: int | None
    remaining: int  # matching attempts after this one, at most REMAINING_CAP

    @property
    def remaining_capped(self) -> bool:
        """True when there are at least `remaining` more (the count stopped there)."""
        return self.remaining >= REMAINING_CAP


def queue_position(session: Session, filters: QueueFilters, attempt: Attempt) -> QueuePosition:
    """The attempts either side of `attempt` in the queue, and the count after it (up to
    REMAINING_CAP), in three queries on the covering index of the queue's filter. The
    attempt need not match the filters any more (a review was just saved): its place in
    the order is enough."""
    forward = filters.oldest_first
    here = Cursor.of(attempt)
    ids = _filtered(filters, select(Attempt.id))
    next_id = session.scalar(_in_order(ids.where(_beyond(here, forward)), forward).limit(1))
    previous_id = session.scalar(
        _in_order(ids.where(_beyond(here, not forward)), not forward).limit(1))
    following = ids.where(_beyond(here, forward)).limit(REMAINING_CAP).subquery()
    remaining = session.scalar(select(func.count()).select_from(following)) or 0
    return QueuePosition(previous_id, next_id, remaining)


@dataclass(frozen=True)
class SubmissionDetail:
    """An attempt with its learner and reviewer, the learner's attempts at the same
    exercise (oldest first, this one included) and its score history (oldest first)."""

    attempt: Attempt
    attempts: list[Attempt]
    history: list[ScoreChange]


def submission_detail(session: Session, attempt_id: int) -> SubmissionDetail | None:
    """Everything the submission page shows, in three queries (None for an unknown id)."""
    reviewer, drafter = aliased(User), aliased(User)
    attempt = session.scalar(
        select(Attempt).where(Attempt.id == attempt_id)
        .join(Attempt.user).outerjoin(reviewer, Attempt.reviewer)
        .outerjoin(drafter, Attempt.draft_by)
        .options(contains_eager(Attempt.user),
                 contains_eager(Attempt.reviewer.of_type(reviewer)),
                 contains_eager(Attempt.draft_by.of_type(drafter))))
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
