"""The registry: the one place that maps an exercise kind to its grading module."""

from __future__ import annotations

import pytest

from course.content.schema import AttemptPolicy, Exercise
from course.grading import registry
from course.grading.base import InvalidAnswer
from tests.unit.specs import builder

SORT_SPEC = {
    "buckets": [{"id": "roadmap", "label": "Roadmap"}, {"id": "backlog", "label": "Backlog"}],
    "items": [{"id": "fix-eggs", "text": "Fix the duplicated eggs", "bucket": "backlog",
               "hint": "h", "explanation": "e"}],
}


def exercise(kind: str, spec) -> Exercise:
    return Exercise(id="ex", title="Ex", kind=kind,
                    auto_graded=registry.get_kind(kind).AUTO_GRADED, section="s", order=10,
                    minutes=5,
                    summary="", instructions_html="", covers=(), policy=AttemptPolicy(),
                    version="v1", source_path="exercises/ex.yaml", spec=spec)


def test_unknown_kind_is_a_key_error():
    with pytest.raises(KeyError, match="essay"):
        registry.get_kind("essay")


def test_dispatch_on_exercise_kind():
    ex = exercise("sort", builder(registry.get_kind("sort"))(SORT_SPEC))
    answer = registry.answer_from_form(ex, {"place-fix-eggs": ["roadmap"]})
    assert answer == {"placements": {"fix-eggs": "roadmap"}}
    assert registry.validate(ex, answer) == []
    assert registry.grade(ex, answer).score == 0
    assert registry.grade(ex, registry.model_answer(ex)).score == 1
    assert registry.validate(ex, {"placements": {}})
    with pytest.raises(InvalidAnswer):
        registry.grade(ex, {"placements": {}})
