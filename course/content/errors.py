"""Errors raised while reading course files.

Every problem names the file and the field, so an author can fix it without reading code.
The loader collects all of them before failing, so one run shows every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one content file."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.message}"


class ContentError(Exception):
    """The course content is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Reporter:
    """Collects problems for one file; field paths read like `items[2].bucket`."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        """Record a problem with `field` of this file."""
        self.problems.append(Problem(self.path, field, message))

    @property
    def ok(self) -> bool:
        return not self.problems
