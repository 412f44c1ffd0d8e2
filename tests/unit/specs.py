"""Building kind specs from plain dicts, through the loader's own exercise reader."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any

from course.content.errors import Problem
from course.content.loader import read_exercise
from course.content.yaml_source import YamlDocument

ENVELOPE = {"id": "x", "title": "An exercise", "section": "s", "order": 1, "minutes": 1,
            "summary": "For a test.", "covers": []}


def read(kind: ModuleType, data: dict) -> tuple[Any, list[Problem]]:
    """(the spec or None, the problems) for `data` as the kind fields of an exercise file."""
    doc = YamlDocument({**ENVELOPE, "kind": kind.KIND, **data})
    exercise, problems = read_exercise(doc, "exercises/x.yaml", {"sections": {"s"}})
    return (exercise.spec if exercise else None), problems


def builder(kind: ModuleType) -> Callable[[dict], Any]:
    """`build(data)`: the kind's spec, failing the test with every problem if invalid."""
    def build(data: dict) -> Any:
        spec, problems = read(kind, data)
        assert not problems, [str(p) for p in problems]
        return spec
    return build


def problems_of(kind: ModuleType) -> Callable[[dict], dict[str, str]]:
    """`spec_problems(data)`: field -> message for a spec the kind must refuse."""
    def spec_problems(data: dict) -> dict[str, str]:
        spec, problems = read(kind, data)
        assert spec is None
        return {p.field: p.message for p in problems}
    return spec_problems


def changer(spec: dict) -> Callable[[tuple, Any], dict]:
    """`changed(path, value)`: a copy of `spec` with one field replaced (None deletes it)."""
    def changed(path: tuple, value: Any) -> dict:
        data = copy.deepcopy(spec)
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return data
    return changed
