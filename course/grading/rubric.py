"""A rubric: the criteria a person grades written work with, and how a choice of levels
becomes a score.

Any kind may offer a rubric (`ExerciseKind.rubric`); the review kind is the one that does
today. The instructor's review, the learner's self-assessment and the demo data all score
through here, so they reach a rubric without knowing which kind it came from:
    score = sum of chosen level points / sum of each criterion's highest level points.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field

from course.content.fields import Block, Id, Number, Wording
from course.grading.base import FormData, InvalidAnswer, ItemFeedback, Result, result_from


class Level(Block):
    points: Annotated[Number, Field(ge=0)]
    label: Wording
    description: Wording


class Criterion(Block):
    id: Id
    title: Wording
    levels: Annotated[tuple[Level, ...], Field(min_length=2)]  # as written by the author

    @property
    def max_points(self) -> float:
        return max(level.points for level in self.levels)

    def level(self, points: float) -> Level | None:
        return next((lv for lv in self.levels if lv.points == points), None)

    @property
    def best_first(self) -> tuple[Level, ...]:
        """The levels in the one order every page shows them: most points first."""
        return tuple(sorted(self.levels, key=lambda lv: lv.points, reverse=True))


def score_rubric(criteria: Sequence[Criterion], levels: Mapping[str, Any]) -> Result:
    """The instructor's verdict: one level (given by its points) per criterion of a
    rubric (any kind's `rubric(spec)`)."""
    problems = []
    known = {c.id for c in criteria}
    for key in levels:
        if key not in known:
            problems.append(f"The rubric has no criterion {key!r}.")
    items = []
    for criterion in criteria:
        value = levels.get(criterion.id)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        level = (criterion.level(value) if isinstance(value, int | float)
                 and not isinstance(value, bool) else None)
        if level is None:
            problems.append(f"Choose a level for '{criterion.title}'.")
            continue
        best = max(criterion.levels, key=lambda lv: lv.points)
        items.append(ItemFeedback(
            item_id=criterion.id, credit=float(level.points), max_credit=float(best.points),
            given=(str(level.points),), expected=(str(best.points),), hint=level.label,
            explanation=level.description))
    if problems:
        raise InvalidAnswer(problems)
    return result_from(items)


def self_assessment_from_form(criteria: Sequence[Criterion], form: FormData) -> dict[str, Any]:
    """A learner's own rubric levels (`self-<criterion_id>` = points), in the shape an
    instructor's review is stored in. Raises InvalidAnswer naming each criterion left
    out or given a level it does not have."""
    levels: dict[str, float] = {}
    problems = []
    for criterion in criteria:
        raw = list(form.get(f"self-{criterion.id}", ()))
        try:
            points = float(raw[0]) if len(raw) == 1 else None
        except ValueError:
            points = None
        if points is None or criterion.level(points) is None:
            problems.append(f"Choose one level for \u201c{criterion.title}\u201d.")
        else:
            levels[criterion.id] = points
    if problems:
        raise InvalidAnswer(problems)
    return {"levels": levels}
