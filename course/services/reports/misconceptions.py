"""Misconceptions: per auto-graded exercise, the items the cohort gets wrong, and how.

It exists so an instructor sees which wrong answers are common, not only which items are
missed: each item's verdicts are counted by the kind's own classes (a bucket, column,
place or option), so the report names the mistake, as the kind labels it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.grading import registry
from course.grading.kind import ExerciseKind
from course.models import ExerciseTotals, ItemOutcome
from course.services.aggregates.rows import CORRECT, WRONG
from course.services.charts import StackedBar, stacked_bar

OTHER_WRONG = "other wrong answers"


@dataclass(frozen=True)
class Segment:
    """One part of an item's stacked bar: where attempts put it (a bucket, column, place
    or option, by its label) and how many did; `right` marks the correct answer."""

    label: str
    count: int
    right: bool = False


@dataclass(frozen=True)
class ItemStat:
    """How the cohort answered one item, card or question.

    `correct_share` is over the attempts that answered it. `wrong` is the most common
    wrong bucket, column or option (its label) with its share of those attempts, or None
    when nobody got it wrong. `segments` is the stacked bar: right first, then each wrong
    place, most common first, then wrong answers no place explains (a multiple-choice
    answer that missed a correct option).
    """

    id: str
    text: str
    answered: int
    correct_share: float
    wrong: str | None = None
    wrong_share: float = 0.0
    segments: tuple[Segment, ...] = ()

    @property
    def bar_total(self) -> int:
        """What the bar's full length stands for: the attempts that answered the item, or
        more when a multiple-choice attempt ticked several wrong options (each counts)."""
        return max(self.answered, sum(s.count for s in self.segments))

    @property
    def bar(self) -> StackedBar:
        """The stacked bar as the page draws it, segment geometry and numbers included."""
        return stacked_bar(self.segments, self.bar_total, self.answered)


@dataclass(frozen=True)
class ExerciseMisconceptions:
    exercise: Exercise
    attempts: int
    items: list[ItemStat] = field(default_factory=list)

    @property
    def overlapping(self) -> bool:
        """Whether some attempt counts in more than one segment of a bar (several wrong
        options ticked), which the page then explains."""
        return any(i.bar_total > i.answered for i in self.items)


class _Tally:
    """Counts for one item, from its rows of ItemOutcome."""

    __slots__ = ("answered", "correct", "wrong")

    def __init__(self) -> None:
        self.answered = 0
        self.correct = 0
        self.wrong: Counter[str] = Counter()

    def add(self, outcome: str, count: int) -> None:
        if outcome == CORRECT:
            self.answered += count
            self.correct += count
        elif outcome == WRONG:
            self.answered += count
        else:
            self.wrong[outcome] += count


def _segments(kind: ExerciseKind, exercise: Exercise, item_id: str, tally: _Tally,
              ranked: Sequence[tuple[str, int]]) -> tuple[Segment, ...]:
    """The item's stacked bar: right, each wrong place (most common first), the rest."""
    segments = [Segment("right", tally.correct, right=True)]
    segments += [Segment(kind.mistake_label(exercise.spec, item_id, mistake), n)
                 for mistake, n in ranked if n > 0]
    unexplained = tally.answered - tally.correct - sum(n for _, n in ranked if n > 0)
    if unexplained > 0:
        segments.append(Segment(OTHER_WRONG, unexplained))
    return tuple(segments)


@dataclass(frozen=True)
class ExerciseCounts:
    """All one exercise's misconceptions are computed from: its maintained item counts
    (item, outcome, count, in key order) and its machine-graded attempts. Equal counts
    make the same report, so a rendered one can be kept for as long as its counts read
    back the same (a submission changes one exercise's)."""

    outcomes: tuple[tuple[str, str, int], ...] = ()
    attempts: int = 0


# Built once (see course/services/__init__.py) and run on the connection: plain rows, not
# ORM objects, hundreds of them on every view of the report.
_ITEM_OUTCOMES = (select(ItemOutcome.exercise_id, ItemOutcome.item_id, ItemOutcome.outcome,
                         ItemOutcome.count)
                  .where(ItemOutcome.exercise_id.in_(bindparam("ids", expanding=True)),
                         ItemOutcome.count > 0)
                  .order_by(ItemOutcome.exercise_id, ItemOutcome.item_id, ItemOutcome.outcome))
_AUTO_GRADED_ATTEMPTS = (select(ExerciseTotals.exercise_id, ExerciseTotals.auto_graded)
                         .where(ExerciseTotals.exercise_id.in_(bindparam("ids", expanding=True))))


def misconception_counts(session: Session, course: Course) -> dict[str, ExerciseCounts]:
    """Per auto-graded exercise id, its counts: two queries on the maintained counts
    (ItemOutcome, ExerciseTotals), a few rows per item however many attempts there are."""
    ids = [e.id for e in course.exercises if e.auto_graded]
    outcomes: dict[str, list[tuple[str, str, int]]] = {i: [] for i in ids}
    connection = session.connection()
    for exercise_id, item_id, outcome, count in connection.execute(_ITEM_OUTCOMES,
                                                                   {"ids": ids}):
        outcomes[exercise_id].append((item_id, outcome, count))
    attempts = {exercise_id: n for exercise_id, n in connection.execute(
        _AUTO_GRADED_ATTEMPTS, {"ids": ids})}
    return {i: ExerciseCounts(tuple(outcomes[i]), attempts.get(i, 0)) for i in ids}


def misconceptions(session: Session, course: Course) -> list[ExerciseMisconceptions]:
    """Per auto-graded exercise (course order), its items worst-understood first.

    Two queries on the maintained counts of each item's verdicts (ItemOutcome) and the
    exercises' totals, so the cost does not grow with the number of attempts. Verdicts
    are the kind's (`classify`) against the answer key as the attempt was last graded:
    after correcting a key, a regrade brings the report in line with the scores.
    """
    counts = misconception_counts(session, course)
    return [exercise_misconceptions(e, counts[e.id])
            for e in course.exercises if e.auto_graded]


def exercise_misconceptions(exercise: Exercise,
                            counts: ExerciseCounts) -> ExerciseMisconceptions:
    """One exercise's misconceptions from its counts (`misconception_counts`); no SQL."""
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for item_id, outcome, count in counts.outcomes:
        tallies[item_id].add(outcome, count)
    kind = registry.kind_of(exercise)
    texts = kind.item_texts(exercise.spec)
    items = []
    for item_id, tally in tallies.items():
        if not tally.answered or item_id not in texts:  # or an item since removed
            continue
        ranked = sorted(tally.wrong.items(), key=lambda pair: (-pair[1], pair[0]))
        wrong, wrong_count = ranked[0] if ranked else (None, 0)
        label = (kind.mistake_label(exercise.spec, item_id, wrong)
                 if wrong is not None else None)
        items.append(ItemStat(
            id=item_id, text=texts[item_id], answered=tally.answered,
            correct_share=tally.correct / tally.answered, wrong=label,
            wrong_share=wrong_count / tally.answered,
            segments=_segments(kind, exercise, item_id, tally, ranked)))
    items.sort(key=lambda i: (i.correct_share, -i.wrong_share, i.id))
    return ExerciseMisconceptions(exercise, counts.attempts, items)
