"""What one request costs inside the process, page by page, against a hello-world route.

    .venv/bin/python bench/request_cost.py                     # microseconds per request
    .venv/bin/python bench/request_cost.py --profile lesson    # cProfile of 2,000 lessons
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/request_cost.py --pages lesson -n 0   # and -n 1000: the
        # difference over 1,000 is the instructions per request (repeatable on a busy box)

Calls the WSGI app of bench/wsgi.py (the course app with `/__hello` beside it) directly,
the way gunicorn's worker does, with the headers wrk sends (none but Host; the signed-in
pages add the session cookie of a demo learner and wrk's User-Agent). No sockets, no
worker, no other process: the figures are what the application itself spends, so they
move little with the machine's load, unlike bench/learner_pages.py's throughput. The
request log is written (to /dev/null), as a server writes it. Not a test: it prints a
table.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from itertools import repeat, starmap
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.test import EnvironBuilder

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

PASSWORD = "bench-password-123"
USER_AGENT = "course-bench"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def build(workdir: Path) -> tuple[Callable[..., Iterable[bytes]], dict[str, tuple[str, bool]]]:
    """The WSGI app and the pages to time: name -> (path, signed in)."""
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"
    os.environ["SECRET_KEY"] = "bench-only-secret"
    from bench.wsgi import app, course_app
    from course import demo
    from course.db import get_session
    from course.models import Attempt, User
    from course.site import get_course

    for handler in logging.getLogger("course").handlers:  # the request log, written nowhere
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (open for the run)
    with course_app.app_context():
        session = get_session()
        demo.fill(session, get_course(), learners=20, attempts=300, seed=1, password=PASSWORD)
        email, attempt_id = session.execute(
            select(User.email, Attempt.id).join(Attempt, Attempt.user_id == User.id)
            .where(User.email.like(f"%@{demo.DEMO_DOMAIN}")).order_by(Attempt.id)
            .limit(1)).one()
        lesson = next(s.id for s in get_course().steps if s.kind == "lesson")
        exercise = session.scalar(select(Attempt.exercise_id).where(Attempt.id == attempt_id))
    pages = {"hello": ("/__hello", False), "home": ("/", False),
             "lesson": (f"/lessons/{lesson}", False),
             "home-signed-in": ("/", True), "lesson-signed-in": (f"/lessons/{lesson}", True),
             "exercise": (f"/exercises/{exercise}", True), "progress": ("/progress", True),
             "attempt": (f"/attempts/{attempt_id}", True)}
    pages = {name: (path, signed_in) for name, (path, signed_in) in pages.items()}
    app.cookie = sign_in(course_app, email)  # type: ignore[attr-defined]
    return app, pages


def sign_in(course_app: Any, email: str) -> str:
    """The Cookie header of a signed-in browser that has opened one page since."""
    client = course_app.test_client()
    headers = {"User-Agent": USER_AGENT}
    page = client.get("/signin", headers=headers).get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token, "no csrf_token on /signin"
    answer = client.post("/signin", headers=headers, data={
        "csrf_token": token.group(1), "email": email, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    client.get("/", headers=headers)
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def environ_for(app: Any, path: str, signed_in: bool) -> dict[str, Any]:
    headers = {"Host": "127.0.0.1"}
    if signed_in:
        headers |= {"Cookie": app.cookie, "User-Agent": USER_AGENT}
    # gunicorn's address for a local wrk: Flask-Login's session protection compares it
    # with the one the session was signed in from.
    environ: dict[str, Any] = EnvironBuilder(
        path=path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    return environ


def call(app: Any, environ: dict[str, Any]) -> str:
    """One request; its status line, with " +cookie" when the response sets a cookie."""
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> Callable[[bytes], None]:
        sets_cookie = any(name.lower() == "set-cookie" for name, _ in headers)
        status.append(code + (" +cookie" if sets_cookie else ""))
        return lambda data: None

    body = app(dict(environ), start_response)
    for _chunk in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return status[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="hello,home,lesson,exercise,progress,attempt",
                        help="comma-separated: hello, home, lesson, home-signed-in, "
                             "lesson-signed-in, exercise, progress, attempt")
    parser.add_argument("-n", type=int, default=500, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5,
                        help="batches per page; the best batch is reported (CPU time of "
                             "this process, so time spent waiting for a core is left out)")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile n requests of PAGE")
    parser.add_argument("--sort", default="tottime", help="pstats sort key for --profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app, pages = build(Path(workdir))
        names = [args.profile] if args.profile else args.pages.split(",")
        for name in names:
            path, signed_in = pages[name]
            environ = environ_for(app, path, signed_in)
            for _ in range(50):  # warm: the per-worker page copy, compiled SQL
                status = call(app, environ)
            if status != "200 OK":  # a cookie set every time would be a cost wrk never sees
                raise SystemExit(f"{name} ({path}) answered {status}")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.n):
                    call(app, environ)
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
                continue
            batches = []
            for _ in range(args.batches):
                started = time.process_time()
                # Inside starmap so that callgrind can count these requests alone
                # (--collect-atstart=no --toggle-collect=starmap_next).
                for _ in starmap(call, repeat((app, environ), args.n)):
                    pass
                batches.append(time.process_time() - started)
            if args.n:
                best, median = min(batches), statistics.median(batches)
                print(f"{name:18} {best / args.n * 1e6:6.0f} us/request "
                      f"(median batch {median / args.n * 1e6:.0f})  {path}", flush=True)


if __name__ == "__main__":
    main()
