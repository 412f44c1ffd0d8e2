"""Errors raised while reading course files.

Every problem names the file, the line and the field, so an author can fix it without
reading code. The loader collects all of them before failing, so one run shows every
problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one content file."""

    path: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class ContentError(SystemExit):
    """The course content is invalid; carries every problem found.

    A SystemExit whose message is the list of problems: when it ends start-up (flask run,
    gunicorn --preload), Python prints that list and exits with status 1, instead of a
    long traceback that buries the one line an author needs.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("The course content has problems; the app cannot start:\n"
                         + "\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
