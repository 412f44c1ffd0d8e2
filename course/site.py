"""What every page shares: the loaded course, template helpers and security headers."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from jinja2.filters import do_truncate
from markupsafe import Markup
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from course.caches import app_caches
from course.content.loader import load_course
from course.content.render import render_markdown
from course.content.schema import Course, Lesson, Step
from course.grading.registry import kind_of
from course.services.charts import percent


class RowId(IntegerConverter):
    """`<id:name>`: a positive database id; anything larger than the column holds is a
    plain 404 instead of an overflow inside the database driver."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def init_app(app: Flask, load_course_now: bool = True) -> None:
    """Load the course once (failing start-up on broken content) and register helpers.

    Without `load_course_now` (a CLI command) the course is read when first asked for.
    """
    app.url_map.converters["id"] = RowId
    if load_course_now:
        _load(app)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals.update(step_url=step_url, fixed_url=fixed_url,
                                 step_page_url=step_page_url,
                                 step_kind_label=step_kind_label,
                                 section_title=section_title, kind_of=kind_of,
                                 field_attrs=field_attrs)
    app.context_processor(lambda: {"course": get_course()})
    app.after_request(_security_headers)


def _load(app: Flask) -> Course:
    course = load_course(app.config["COURSE_CONTENT_DIR"])
    app.extensions["course"] = course
    # Every page's default meta description: the course's, as plain text (the same on
    # every page, so not worked out again on each).
    app.jinja_env.globals["course_summary"] = do_truncate(
        app.jinja_env, course.description_html.striptags(), 160)
    return course


def get_course() -> Course:
    course: Course | None = current_app.extensions.get("course")
    if course is None:  # a CLI command, asking for the first time
        course = _load(current_app._get_current_object())  # type: ignore[attr-defined]
    return course


# Everything is served from this origin: no CDN, no inline script.
SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


def add_missing_headers(response: Response, headers: tuple[tuple[str, str], ...]) -> None:
    """Add each header the response does not have yet (a view may set its own).

    One pass over the response's headers: werkzeug's `setdefault` scans them all for each
    header and, for a missing one (on almost every response), raises and catches a
    BadRequestKeyError, which together cost more than the rest of serving a cached page's
    headers.
    """
    present = {name.lower() for name, _ in response.headers}
    for name, value in headers:
        if name.lower() not in present:
            response.headers.add(name, value)


def _security_headers(response: Response) -> Response:
    add_missing_headers(response, SECURITY_HEADERS)
    return response


def field_attrs(field: Any, hint_id: str | None = None) -> dict[str, str]:
    """aria-describedby (the hint, then the error list) and aria-invalid for a form field
    whose errors are listed as `<ul id="{field.id}-error">` (the field_errors macro)."""
    described = [hint_id] if hint_id else []
    attrs = {}
    if field.errors:
        described.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return attrs


def remembered_url(key: Hashable, endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)`, built once per mount point and `key` and remembered
    on the app.

    Every page links the same few pages (the header's) and the outline links every step;
    werkzeug's URL building costs more than the rest of a link. A relative URL depends on
    nothing else of the request than the mount point (SCRIPT_NAME, or the prefix ProxyFix
    takes from X-Forwarded-Prefix), so `key` must name everything else the URL depends on.
    Kept in caches.AppCaches.urls (bounded).
    """
    if not has_request_context():  # a mail or a command: url_for decides as usual
        return url_for(endpoint, **values)
    urls = app_caches(current_app).urls
    full_key = (request.script_root, key)
    url = urls.get(full_key)
    if url is None:
        url = url_for(endpoint, **values)
        urls.put(full_key, url)
    return url


def latest_copy(store: str, part: str, key: Hashable, draw: Callable[[], Markup]) -> Markup:
    """A part of a page drawn from data read on every request (`key`, say an exercise's
    counts), drawn again only when `key` differs from what this app last drew `part` from
    (caches.AppCaches.latest_parts). Not kept in debug, where templates change under the
    developer's hands."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    copies = app_caches(app).latest_parts
    copy = copies.get((store, part))
    if copy is not None and copy[0] == key:
        return copy[1]
    drawn = draw()
    if not app.debug:
        copies.put((store, part), (key, drawn))
    return drawn


def fixed_url(endpoint: str) -> str:
    """The URL of a page that takes no arguments (the header's links)."""
    return remembered_url(endpoint, endpoint)


def step_page_url(endpoint: str, step_id: str) -> str:
    """A page of one step of the course (its lesson, exercise, submission): the course's
    steps are few, so each is remembered."""
    return remembered_url((endpoint, step_id), endpoint, step_id=step_id)


def step_url(step: Step) -> str:
    """The page of a lesson or an exercise (the outline links every step)."""
    return step_page_url("learn.lesson" if isinstance(step, Lesson) else "learn.exercise",
                         step.id)


def step_kind_label(step: Step) -> str:
    """"Lesson", or what the exercise's kind calls itself ("Quiz", "Assignment")."""
    return "Lesson" if isinstance(step, Lesson) else kind_of(step).LABEL


def section_title(section_id: str) -> str:
    return next((s.title for s in get_course().sections if s.id == section_id), "")
