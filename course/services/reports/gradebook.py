"""The gradebook: learners by exercises, a page at a time, sorted and filtered in SQL.

Its columns are one list (the page and the CSV, course.services.reports.gradebook_csv,
both follow it). Learners are sorted by any column with ties broken by name then account
id, and paged after or before a learner (a keyset), so a late page costs what the first
does; totals, awaiting review and completion are read from the account, where
course.services.aggregates keeps them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from course.content.schema import Course, Exercise
from course.models import LearnerExercise, Role, StepProgress, User
from course.services.aggregates.counts import learner_count


@dataclass(frozen=True)
class GradebookRow:
    """One learner's line: counted score per exercise id (absent when never tried,
    None while awaiting review), the total over all exercises and step completion."""

    user_id: int
    name: str
    email: str
    scores: dict[str, float | None]
    total: float
    completion: float

    @property
    def awaiting_review(self) -> int:
        """Exercises whose only work waits for an instructor: 0 in the total until graded."""
        return sum(1 for score in self.scores.values() if score is None)


# Sort keys of the columns that are not exercises; an exercise's is "ex-" + its id (ids
# are lowercase words joined by hyphens, so the two never collide).
NAME, AWAITING, TOTAL, COMPLETION = "name", "awaiting", "total", "completion"
EXERCISE_PREFIX = "ex-"


@dataclass(frozen=True)
class GradebookColumn:
    """A column of the gradebook, the same on the page and in the CSV (the Learner column
    is three cells in the CSV: id, name and email)."""

    key: str  # its sort key in links
    label: str
    csv_headers: tuple[str, ...]
    exercise: Exercise | None = None


def gradebook_columns(course: Course) -> list[GradebookColumn]:
    """The gradebook's columns in page order; the CSV's header follows the same order."""
    return [GradebookColumn(NAME, "Learner", ("learner_id", "name", "email")),
            *(GradebookColumn(EXERCISE_PREFIX + e.id, e.title, (e.id,), e)
              for e in course.exercises),
            GradebookColumn(AWAITING, "Awaiting review", ("awaiting_review",)),
            GradebookColumn(TOTAL, "Total", ("total",)),
            GradebookColumn(COMPLETION, "Completion", ("completion",))]


@dataclass(frozen=True)
class GradebookSort:
    """Which column orders the learners and which way. Ties are always broken by name,
    then account id, so every learner has one place and pages never overlap."""

    key: str = NAME
    descending: bool = False

    @classmethod
    def parse(cls, course: Course, key: str | None, direction: str | None) -> GradebookSort:
        """From the page's `sort` and `dir`; anything unknown falls back to by name."""
        known = {c.key for c in gradebook_columns(course)}
        return cls(key if key in known else NAME, direction == "desc")

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    def query_args(self) -> dict[str, str]:
        """The URL arguments (none for the default, so plain links stay plain)."""
        return {} if self == GradebookSort() else {"sort": self.key, "dir": self.direction}

    def toggled(self, key: str) -> GradebookSort:
        """The order a column header's link asks for: the other way round when the table
        is already sorted by it, else that column ascending."""
        return GradebookSort(key, not self.descending if key == self.key else False)


BY_NAME = GradebookSort()  # the default order, also the CSV's


@dataclass(frozen=True)
class GradebookPage:
    exercises: tuple[Exercise, ...]
    columns: list[GradebookColumn]
    rows: list[GradebookRow]
    page: int
    page_size: int
    learners: int  # matching the filter
    sort: GradebookSort = GradebookSort()
    learner_filter: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.learners / self.page_size))

    @property
    def first_id(self) -> int | None:
        """The first learner shown: the Previous link asks for the page before them."""
        return self.rows[0].user_id if self.rows else None

    @property
    def last_id(self) -> int | None:
        """The last learner shown: the Next link asks for the page after them."""
        return self.rows[-1].user_id if self.rows else None


_Query = Select[*tuple[Any, ...]]
# The columns kept on each account for the sorts that sum over a learner's exercises
# or steps (course.services.aggregates keeps them; indexed for both directions).
_KEPT_KEYS = {TOTAL: "score_sum", AWAITING: "awaiting", COMPLETION: "steps_done"}


def _sort_key(course: Course, sort: GradebookSort, query: _Query,
              user: Any = User) -> tuple[_Query, Any]:
    """The learners' query joined to what `sort` orders by, and that value (None when
    sorting by name), for `user` (the User entity or an alias of it). Every value is a
    number, never NULL: in an exercise's column, not attempted (-2) sorts below awaiting
    review (-1), below any score (0 to 1). Total, awaiting review and completion are
    read from the account, where they are kept, not summed on every page."""
    if sort.key.startswith(EXERCISE_PREFIX):
        mine = aliased(LearnerExercise)
        query = query.outerjoin(mine, (mine.user_id == user.id)
                                & (mine.exercise_id == sort.key[len(EXERCISE_PREFIX):]))
        return query, case((mine.user_id.is_(None), -2.0),
                           else_=func.coalesce(mine.score, -1.0))
    if sort.key in _KEPT_KEYS:
        return query, getattr(user, _KEPT_KEYS[sort.key])
    return query, None


class GradebookOrder:
    """The gradebook's learners in order as SQL (`query`), filtered only (`filtered`,
    for counting them), and the page after or before a learner (`beyond`).

    The order is the sort key either way, then name and account id ascending (by name:
    name and id, either way). Sorted by name, total, awaiting review or completion a
    page is an index range (ix_users_role_*), so a late page costs what the first does.
    """

    def __init__(self, course: Course, sort: GradebookSort, learner_filter: str = ""):
        query: _Query = select(User.id, User.display_name, User.email).where(
            User.role == Role.LEARNER.value)
        if learner_filter:
            query = query.where(User.display_name.icontains(learner_filter, autoescape=True)
                                | User.email.icontains(learner_filter, autoescape=True))
        self.course, self.sort = course, sort
        self.filtered = query
        self.base, self.key = _sort_key(course, sort, query)
        if self.key is not None:
            self.base = self.base.add_columns(self.key.label("sort_key"))
        self.query = self._ordered(self.base, backwards=False)

    def _ordered(self, query: _Query, backwards: bool) -> _Query:
        """`query` in the gradebook's order, or in exactly the reverse order."""
        return query.order_by(*self._order(self.key, User.display_name, User.id, backwards))

    def _order(self, key: Any, name: Any, ident: Any, backwards: bool) -> tuple[Any, ...]:
        """ORDER BY terms of the gradebook's order (or its reverse) over these columns."""
        descending = self.sort.descending != backwards
        if key is None:
            return (name.desc(), ident.desc()) if descending else (name, ident)
        ties = (name.desc(), ident.desc()) if backwards else (name, ident)
        return (key.desc() if descending else key, *ties)

    def beyond(self, learner_id: int, forward: bool, limit: int) -> _Query:
        """The `limit` learners just after `learner_id` in this order (`forward`), or just
        before it, nearest first. One statement: by name, one range of the index; by a
        sort key, the rest of the learner's tie (same key, later name) then the keys
        beyond it, each a range, at most 2 x `limit` rows to put in order. A learner
        who no longer exists has no neighbours."""
        mark = aliased(User)
        names_after = (self.sort.descending if self.key is None else False) != forward
        mark_name = select(mark.display_name).where(mark.id == learner_id).scalar_subquery()
        ties = tuple_(User.display_name, User.id)
        past_tie = ties > tuple_(mark_name, learner_id) if names_after else (
            ties < tuple_(mark_name, learner_id))
        if self.key is None:
            return self._ordered(self.base.where(past_tie), not forward).limit(limit)
        marked, mark_key = _sort_key(self.course, self.sort, select(mark.id), mark)
        mark_value = marked.where(mark.id == learner_id).with_only_columns(
            mark_key).scalar_subquery()
        up = self.sort.descending != (not forward)  # walking towards smaller keys
        same = self._ordered(self.base.where(self.key == mark_value, past_tie),
                             not forward).limit(limit).subquery()
        rest = self._ordered(self.base.where(self.key < mark_value if up
                                             else self.key > mark_value),
                             not forward).limit(limit).subquery()
        both = union_all(select(same), select(rest)).subquery()
        key, name, ident = both.c.sort_key, both.c.display_name, both.c.id
        return (select(ident, name, both.c.email, key)
                .order_by(*self._order(key, name, ident, not forward)).limit(limit))


def gradebook_rows(session: Session, course: Course, users: Sequence[Any]) -> list[GradebookRow]:
    """Gradebook lines for `users` (rows of id, display_name, email): two queries."""
    ids = [u.id for u in users]
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for row in session.execute(
            select(LearnerExercise.user_id, LearnerExercise.exercise_id, LearnerExercise.score)
            .where(LearnerExercise.user_id.in_(ids),
                   LearnerExercise.exercise_id.in_([e.id for e in course.exercises]))):
        scores[row.user_id][row.exercise_id] = row.score
    done = {user_id: n for user_id, n in session.execute(
        select(StepProgress.user_id, func.count())
        .where(StepProgress.user_id.in_(ids),
               StepProgress.step_id.in_([s.id for s in course.steps]))
        .group_by(StepProgress.user_id))}
    n_exercises, n_steps = len(course.exercises), len(course.steps)
    return [GradebookRow(
        user_id=u.id, name=u.display_name, email=u.email, scores=scores[u.id],
        total=(sum(s for s in scores[u.id].values() if s is not None) / n_exercises
               if n_exercises else 0.0),
        completion=done.get(u.id, 0) / n_steps if n_steps else 0.0) for u in users]


def gradebook(session: Session, course: Course, page: int = 1, page_size: int = 50,
              sort: GradebookSort = GradebookSort(), learner_filter: str = "",
              after: int | None = None, before: int | None = None) -> GradebookPage:
    """One page of learners in `sort`'s order (by name by default), with their counted
    scores; `learner_filter` keeps those whose name or email contains it.

    The page is the one just after learner `after`, or just before learner `before`
    (the page's Next and Previous links name the last and first learner shown), so it
    costs the same however deep it is; `page` is then only its number, for the reader.
    Without either, `page` is counted from the start (a page number typed in, or a
    neighbour who left: OFFSET, which grows with the page).

    Four queries whatever the page, the column sorted by or the filter (five when a
    page's neighbour left): the number of learners (kept by course.services.aggregates;
    counted when filtered), the page of learners, their counted scores and their
    completed steps. A page past the end is empty rather than an error.
    """
    page = max(1, page)
    order = GradebookOrder(course, sort, learner_filter)
    learners = (session.scalar(select(func.count()).select_from(order.filtered.subquery()))
                or 0) if learner_filter else learner_count(session)
    users: list[Any] = []
    mark = after if after is not None else before
    if mark is not None:
        users = list(session.execute(order.beyond(mark, after is not None, page_size)))
        if before is not None:
            users.reverse()
    if not users:
        users = list(session.execute(order.query.limit(page_size)
                                     .offset((page - 1) * page_size)))
    rows = gradebook_rows(session, course, users) if users else []
    return GradebookPage(course.exercises, gradebook_columns(course), rows, page, page_size,
                         learners, sort, learner_filter)
