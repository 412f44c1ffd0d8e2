"""Reading submissions for instructors: the queue and one submission with its context.

The queue pages oldest or newest first by (created_at, id) with a keyset cursor instead
of OFFSET, so page 2,000 costs what page 1 costs: each page is one indexed range scan of
`ix_attempts_*_created` (or, filtered by a learner, of `ix_attempts_user_queue`) plus the
join to the learner. Every function here runs a fixed
number of queries however many attempts exist. Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select, tuple_, union_all
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


# A learner filter matching at most this many learners (a name, an address) reads their
# attempts by learner; one matching more (a domain) walks the queue's own index, where
# matches are then dense. One statement either way (see _narrowed).
FEW_LEARNERS = 200

_Query = Select[*tuple[Any, ...]]
_Finish = Callable[[_Query], _Query]


def _filtered(filters: QueueFilters, query: _Query) -> _Query:
    """`query` (on attempts) narrowed by every filter but the learner's."""
    if filters.exercise_id:
        query = query.where(Attempt.exercise_id == filters.exercise_id)
    if filters.status == DRAFT:
        query = query.where(Attempt.draft_saved_at.is_not(None))
    elif filters.status:
        query = query.where(Attempt.status == filters.status)
        if filters.status == AttemptStatus.AWAITING_REVIEW:
            query = query.where(Attempt.draft_saved_at.is_(None))
    return query


def _narrowed(filters: QueueFilters, finish: _Finish, limit: int) -> _Query:
    """The ids (and times) of the queue's attempts, `finish`ed (a cursor, the order), at
    most `limit` of them: one statement on the covering index of the filter.

    With a learner filter, matching the name or email of every attempt in the queue's
    order reads every attempt when the learner is one of thousands (580,000 SQLite
    instructions, 250 ms, for a page at 100,000 attempts). So learners are matched first
    (the users table, far smaller), and the statement has two branches of which one
    reads anything (the other's LIMIT is 0): when at most FEW_LEARNERS match, their
    attempts by learner on ix_attempts_user_queue, then sorted (a few learners'
    attempts); else the queue's index walked with each attempt's learner checked, as
    before, since most attempts then match.
    """
    query = _filtered(filters, select(Attempt.id, Attempt.created_at))
    if not filters.learner:
        return finish(query).limit(limit)
    match = or_(User.display_name.icontains(filters.learner, autoescape=True),
                User.email.icontains(filters.learner, autoescape=True))
    matching = select(User.id).where(match)
    few = select(func.count()).select_from(
        matching.limit(FEW_LEARNERS + 1).subquery()).scalar_subquery() <= FEW_LEARNERS
    by_learner = finish(query.where(Attempt.user_id.in_(matching))).limit(
        case((few, limit), else_=0)).subquery()
    by_queue = finish(query.join(Attempt.user).where(match)).limit(
        case((few, 0), else_=limit)).subquery()
    both = union_all(select(by_learner), select(by_queue)).subquery()
    return select(both.c.id, both.c.created_at)


def _in_order(query: _Query, forward: bool) -> _Query:
    if forward:
        return query.order_by(Attempt.created_at, Attempt.id)
    return query.order_by(Attempt.created_at.desc(), Attempt.id.desc())


def _beyond(cursor: Cursor, forward: bool) -> Any:
    """Rows after `cursor` when walking oldest-to-newest (`forward`), else before it."""
    key = tuple_(Attempt.created_at, Attempt.id)
    mark = tuple_(cursor.created_at, cursor.id)
    return key > mark if forward else key < mark


def _page(session: Session, filters: QueueFilters, forward: bool, limit: int,
          cursor: Cursor | None) -> list[Attempt]:
    """Up to `limit` attempts with their learners, beyond `cursor` walking `forward`
    (oldest to newest) or back. One query."""
    def finish(query: _Query) -> _Query:
        if cursor is not None:
            query = query.where(_beyond(cursor, forward))
        return _in_order(query, forward)

    ids = _narrowed(filters, finish, limit).subquery()
    return list(session.scalars(_in_order(
        select(Attempt).join(Attempt.user).options(contains_eager(Attempt.user))
        .where(Attempt.id.in_(select(ids.c.id))), forward).limit(limit)))


def submissions_page(session: Session, filters: QueueFilters, page_size: int,
                     after: Cursor | None = None, before: Cursor | None = None) -> QueuePage:
    """The page of attempts just after `after` in the queue's order, or just before
    `before` (the first page when neither is given). One query."""
    forward = filters.oldest_first
    if before is not None:
        # Walk back towards the start, then turn the page the right way round.
        rows = _page(session, filters, not forward, page_size + 1, before)
        attempts = rows[:page_size][::-1]
        return QueuePage(attempts,
                         previous=Cursor.of(attempts[0]) if len(rows) > page_size else None,
                         next=Cursor.of(attempts[-1]) if attempts else before)
    rows = _page(session, filters, forward, page_size + 1, after)
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

    def first(walk: bool) -> Callable[[_Query], _Query]:
        return lambda query: _in_order(query.where(_beyond(here, walk)), walk)

    def first_id(walk: bool) -> int | None:
        """The id of the attempt next to this one walking `walk`."""
        ids = _narrowed(filters, first(walk), 1).subquery()
        return session.scalar(select(ids.c.id).order_by(
            *((ids.c.created_at, ids.c.id) if walk
              else (ids.c.created_at.desc(), ids.c.id.desc()))).limit(1))

    following = _narrowed(filters, lambda query: query.where(_beyond(here, forward)),
                          REMAINING_CAP).subquery()
    remaining = session.scalar(select(func.count()).select_from(following)) or 0
    return QueuePosition(first_id(not forward), first_id(forward), remaining)


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
