"""Building kind specs from plain dicts, as the loader would, for the grader tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any

from course.content.errors import Reporter


def builder(kind: ModuleType) -> Callable[[dict], Any]:
    """`build(data)`: the kind's spec, failing the test with every problem if invalid."""
    def build(data: dict) -> Any:
        report = Reporter("exercises/x.yaml")
        spec = kind.parse_spec(data, report)
        assert report.ok, [str(p) for p in report.problems]
        return spec
    return build


def problems_of(kind: ModuleType) -> Callable[[dict], dict[str, str]]:
    """`spec_problems(data)`: field -> message for a spec the kind must refuse."""
    def spec_problems(data: dict) -> dict[str, str]:
        report = Reporter("exercises/x.yaml")
        assert kind.parse_spec(data, report) is None
        return {p.field: p.message for p in report.problems}
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
