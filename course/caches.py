"""Every cache of pages, page parts and grading the platform keeps, declared here: what each
is keyed by, its bound, and why a copy kept by one worker is never wrong in another. (Reading
a file or setting once per process, such as the exercise file models, the database's head
revision or the throwaway account for timing, is not a cache of anything a request asks.)

A cache is a second way to the same answer, so each one here has earned its place by the
project's rule: it saves at least a fifth of a page a user waits for (the commit that
kept it gives the figures). Anything else is worked out on every request.

Why copies per worker are safe: every worker loads the same course content at start-up
and never changes it while it runs, and every value kept here is a pure function of its
key and that content. Nothing read from the database is kept unless the key holds what
was read. Two workers holding different copies therefore give the same answers, and no
cache needs to be shared or invalidated across workers (nor across app servers). Every
cache is bounded and forgets the least recently used entry first, so a flood of distinct
keys costs memory only up to the bound and never stops a page that is asked for again
from being kept.

Caches that belong to one app (rendered pages, which depend on its templates and
configuration) live in `AppCaches`, one per app (`app.extensions["course_caches"]`);
caches of Flask-free work are the module-level functions and mappings below.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from markupsafe import Markup

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class LRU(Generic[K, V]):
    """A mapping of at most `size` entries that forgets the least recently used first.

    Locked: the development server answers requests in threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry for `key`, None when there is none."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def kept(self, key: K, make: Callable[[], V]) -> V:
        """The entry for `key`, made by `make()` (outside the lock) when there is none.
        A value of None is kept too."""
        with self._lock:
            value = self._entries.get(key, _MISSING)
            if value is not _MISSING:
                self._entries.move_to_end(key)
                return value  # type: ignore[return-value]
        made = make()
        self.put(key, made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> set[K]:
        with self._lock:
            return set(self._entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())


class App(Protocol):
    """What the caches need of a Flask app: its extensions. A protocol rather than Flask
    itself, so that the services, which read the module-level caches, stay Flask-free."""

    extensions: dict[str, Any]


def app_caches(app: App) -> AppCaches:
    """The caches of `app` (made by `init_app`)."""
    caches: AppCaches = app.extensions["course_caches"]
    return caches


def init_app(app: App) -> None:
    app.extensions["course_caches"] = AppCaches()


@dataclass(frozen=True)
class AppCaches:
    """The caches of one app, whose templates, configuration and loaded course they hold
    the output of (tests build many apps in one process; each has its own). The pages,
    answer forms and report parts are not filled in debug, where templates change under
    the developer's hands."""

    #: A page that is the same for every visitor who is not signed in (course.page_cache),
    #: as encoded bytes, by (mount point, path). Only the course home and existing lessons
    #: are kept, so the bound is never reached by a real course; a page is a function of
    #: the loaded course only.
    pages: LRU[tuple[str, str], bytes] = field(default_factory=lambda: LRU(256))
    #: The whole answer (status, headers, body) that served a kept page, by (scheme, host,
    #: mount point, path, the encoding chosen: "" for none), replayed by
    #: course.page_cache.Replay. The host and scheme are what a client sends, so the bound
    #: matters: a flood of hosts pushes out old answers, never stops new ones being kept.
    answers: LRU[tuple[str, str, str, str, str], Any] = field(
        default_factory=lambda: LRU(256))
    #: Which encoding the app chose for an Accept-Encoding header on a page, by (scheme,
    #: host, mount point, path, the header as sent): a pointer into `answers`. The app's
    #: choice depends only on the header and the page, which never changes.
    encodings: LRU[tuple[str, str, str, str, str], str] = field(
        default_factory=lambda: LRU(1024))
    #: The parts of My progress that are the same for every learner (each step's link and
    #: label, course.learn.progress_rows), by mount point: a function of the loaded course.
    progress_sections: LRU[str, Any] = field(default_factory=lambda: LRU(16))
    #: The account of an attempt on the attempt page (its kind's answer macro), by
    #: (exercise id, exercise version, the answer's canonical JSON, whether the model
    #: answer shows): nothing of who answered is part of it, and only reports worked out
    #: from the answer itself are kept (course.learn.exercises.attempt_answer).
    attempt_answers: LRU[tuple[str, str, str, bool], Markup] = field(
        default_factory=lambda: LRU(256))
    #: The answer controls of an auto-graded exercise's page (its kind's form macro,
    #: course.learn.exercises.answer_form), by (mount point, exercise id, version, "" for a
    #: blank form or the prefilled answer's canonical JSON): the partials link static files,
    #: hence the mount point; nothing of who fills the form in is part of it.
    answer_forms: LRU[tuple[str, str, str, str], Markup] = field(
        default_factory=lambda: LRU(256))
    #: A relative URL (course.site.remembered_url), by (mount point, a key its caller gives
    #: that names everything else the URL depends on): the header's links, every step's
    #: link in the outline, static files' hashed URLs. A relative URL depends on nothing
    #: else of the request than the mount point (SCRIPT_NAME, or ProxyFix's prefix).
    urls: LRU[tuple[str, Hashable], str] = field(default_factory=lambda: LRU(1024))
    #: The latest drawing of a part of an instructor's report (course.site.latest_copy), by
    #: (report, part: an exercise id), with the key it was drawn from (the counts read on
    #: this request): drawn again whenever the counts read differ, so a worker never shows
    #: what another worker's submission has changed since.
    latest_parts: LRU[tuple[str, str], tuple[Hashable, Markup]] = field(
        default_factory=lambda: LRU(256))
    #: What a session cookie holds and when it was signed (a Unix time), by the whole
    #: signed cookie (course.overrides.CookieSessions): only those exact bytes get the
    #: remembered contents, and the lifetime is checked on every request. Emptied when the
    #: secret key or its fallbacks change.
    session_cookies: LRU[str, tuple[dict[str, Any], float]] = field(
        default_factory=lambda: LRU(1024))


# Flask-free caches, one per worker process, of pure functions of the loaded course.

#: An answer's feedback graded again with the exercise as loaded now
#: (course.services.attempts.report), by (exercise, id of its spec, the answer's canonical
#: JSON): grading is a pure function of the exercise and the answer, and the spec holds the
#: wording, which takes no part in an Exercise's equality; while the key keeps the
#: exercise alive its spec's id names only that spec. None for an answer that no longer
#: grades. Callers only read what comes back.
REGRADED_FEEDBACK: LRU[tuple[Any, int, str], dict[str, Any] | None] = LRU(512)
#: The model answer's choice per item of an exercise, keyed as REGRADED_FEEDBACK is but
#: for the answer.
MODEL_ANSWERS: LRU[tuple[Any, int], dict[str, tuple[str, ...]]] = LRU(64)
#: The items of an attempt report worked out from the answer, by (exercise, id of its
#: spec, the answer's canonical JSON, whether the answer shows, whether lessons are
#: linked): the same for equal answers to one loaded exercise, and the spec's id names
#: the loaded course whose lessons are linked. Callers only read them.
ATTEMPT_ITEMS: LRU[tuple[Any, int, str, bool, bool], tuple[Any, ...]] = LRU(512)
