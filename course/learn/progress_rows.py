"""The parts of My progress that are the same for every learner, built once per app."""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app, request
from markupsafe import Markup, escape

from course.caches import app_caches
from course.content.schema import Exercise, Section, Step
from course.site import get_course, step_kind_label, step_url


class ProgressRow(NamedTuple):
    """What My progress shows of one step whoever is asking."""

    step: Step
    heading: Markup  # the step's link and its kind
    limit: str  # " of N" after the attempts used, for an exercise with a limit


Sections = tuple[tuple[Section, tuple[ProgressRow, ...]], ...]


def progress_sections() -> Sections:
    """The course's sections that have steps, with their rows' fixed parts, kept per app
    and mount point (caches.AppCaches.progress_sections)."""
    sections: Sections = app_caches(current_app).progress_sections.kept(
        request.script_root, lambda: tuple(
            (section, tuple(_row(step) for step in steps))
            for section, steps in get_course().by_section() if steps))
    return sections


def _row(step: Step) -> ProgressRow:
    limit = step.policy.max_attempts if isinstance(step, Exercise) else None
    heading = Markup(  # nosec B704  # fixed markup; every text in it is escaped
        f'<a href="{escape(step_url(step))}">{escape(step.title)}</a> '
        f'<span class="step-kind">{escape(step_kind_label(step))}</span>')
    return ProgressRow(step, heading, f" of {limit}" if limit else "")
