"""What one request costs inside the process, page by page, against a hello-world route.

    .venv/bin/python bench/request_cost.py                     # CPU microseconds per request
    .venv/bin/python bench/request_cost.py --profile exercise  # cProfile of -n exercise pages
    .venv/bin/python bench/request_cost.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/request_cost.py --pages lesson -n 0   # and -n 1000: the
        # difference over 1,000 is the instructions per request (repeatable on a busy box)

Fills a temporary SQLite database (or the --database-url one) as bench/learner_pages.py
does (200 demo learners /
5,000 attempts, the same learner, who still sees the board, and the same pages), and calls
the WSGI app of bench/wsgi.py (the course app with `/__hello` beside it) directly, the way
gunicorn's worker does, with the headers wrk sends (none but Host; signed-in pages add
the learner's session cookie and wrk's User-Agent). The submission is a POST of the final
quiz by another demo learner with a new idempotency token each time, as the throughput
bench sends it. No sockets, no worker, no other process but the database server: the
figures are what the application itself spends (CPU time of this process), so they move
little with the machine's load, unlike bench/learner_pages.py's throughput, and they are
what before/after comparisons of one change quote. On PostgreSQL the wall time per request
is printed too: it holds the server's work and the round trips, which the CPU time leaves
out (and which a busy machine inflates). The request log is written (to /dev/null), as a
server writes it. Not a test: it prints a table.
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
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat, starmap
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import learner_pages as lp  # noqa: E402  (beside this script)

PAGES = ("hello", "home", "lesson", "home-signed-in", "lesson-signed-in", "exercise",
         "progress", "attempt", "submit")
DEFAULT_PAGES = "hello,home,lesson,exercise,progress,attempt,submit"
FORM = "application/x-www-form-urlencoded"
Environs = Callable[[int], Iterable[dict[str, Any]]]


def build(workdir: Path, database_url: str | None = None
          ) -> tuple[Callable[..., Iterable[bytes]], dict[str, Environs]]:
    """The WSGI app and, per page, how to make the environs of n requests to it."""
    prepared = lp.prepare_database(database_url, workdir, learners=200, attempts=5000,
                                   seed=1, submitters=1)
    os.environ.update(DATABASE_URL=prepared.url, SECRET_KEY=lp.SECRET_KEY)
    from bench.wsgi import app, course_app

    for handler in logging.getLogger("course").handlers:  # the request log, written nowhere
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (open for the run)
    learner = signed_in(course_app, prepared.email)
    poster = signed_in(course_app, prepared.submitters[0])
    submitted = f"/exercises/{lp.SUBMITTED}"
    envelope = hidden_fields(poster.get(submitted, headers={"User-Agent": lp.USER_AGENT})
                             .get_data(as_text=True))
    fields = list(envelope.items()) + prepared.answer
    gets = {"hello": ("/__hello", None), "home": ("/", None),
            "lesson": (f"/lessons/{prepared.lesson}", None),
            "home-signed-in": ("/", learner), "lesson-signed-in":
            (f"/lessons/{prepared.lesson}", learner),
            "exercise": (f"/exercises/{lp.EXERCISE}", learner),
            "progress": ("/progress", learner),
            "attempt": (f"/attempts/{prepared.attempt_id}", learner)}
    pages: dict[str, Environs] = {
        name: same_request(environ_for(path, cookie_header(client)))
        for name, (path, client) in gets.items()}

    def submissions(n: int) -> Iterator[dict[str, Any]]:
        # Built before they are timed: each has a body of its own, read once.
        return iter([environ_for(submitted, cookie_header(poster), urllib.parse.urlencode(
            [*fields, ("submission_token", uuid.uuid4().hex)])) for _ in range(n)])

    pages["submit"] = submissions
    return app, pages


def same_request(environ: dict[str, Any]) -> Environs:
    return lambda n: repeat(environ, n)


def signed_in(course_app: Any, email: str) -> Any:
    """A test client signed in through the real form that has opened one page since."""
    client = course_app.test_client()
    headers = {"User-Agent": lp.USER_AGENT}
    page = client.get("/signin", headers=headers).get_data(as_text=True)
    token = lp.CSRF_INPUT.search(page)
    assert token, "no csrf_token on /signin"
    answer = client.post("/signin", headers=headers, data={
        "csrf_token": token.group(1) or token.group(2), "email": email,
        "password": lp.PASSWORD})
    assert answer.status_code == 302, answer.status_code
    client.get("/", headers=headers)  # the session gets its CSRF token, as a browser's would
    return client


def cookie_header(client: Any) -> str | None:
    if client is None:
        return None
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def hidden_fields(page: str) -> dict[str, str]:
    """The exercise form's hidden fields but its submission token (new per request)."""
    fields = {}
    for tag in lp.HIDDEN_INPUT.findall(page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and name.group(1) != "submission_token":
            fields[name.group(1)] = value.group(1)
    return fields


def environ_for(path: str, cookie: str | None, body: str | None = None) -> dict[str, Any]:
    headers = {"Host": "127.0.0.1"}
    if cookie is not None:
        headers |= {"Cookie": cookie, "User-Agent": lp.USER_AGENT}
    # gunicorn's address for a local wrk: Flask-Login's session protection compares it
    # with the one the session was signed in from.
    builder = EnvironBuilder(path=path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"},
                             **({} if body is None else
                                {"method": "POST", "data": body, "content_type": FORM}))
    environ: dict[str, Any] = builder.get_environ()
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


def check(name: str, status: str) -> None:
    # A cookie set every time would be a cost wrk never sees; a submission is stored and
    # redirected (its flash message is the cookie it sets).
    expected = ("303 SEE OTHER", "303 SEE OTHER +cookie") if name == "submit" else ("200 OK",)
    if status not in expected:
        raise SystemExit(f"{name} answered {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=DEFAULT_PAGES,
                        help=f"comma-separated, of: {', '.join(PAGES)}")
    parser.add_argument("-n", type=int, default=500, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5,
                        help="batches per page; the best batch is reported (CPU time of "
                             "this process, so time spent waiting for a core is left out)")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile n requests of PAGE")
    parser.add_argument("--sort", default="tottime", help="pstats sort key for --profile")
    parser.add_argument("--database-url", help="use this database (its tables are dropped!) "
                        "instead of a temporary SQLite file")
    args = parser.parse_args()
    names = [args.profile] if args.profile else args.pages.split(",")
    if unknown := set(names) - set(PAGES):
        raise SystemExit(f"unknown pages: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as workdir:
        app, pages = build(Path(workdir), args.database_url)
        for name in names:
            environs = pages[name]
            for environ in environs(50):  # warm: the per-worker page copy, compiled SQL
                check(name, call(app, environ))
            if args.profile:
                batch = environs(args.n)
                profiler = cProfile.Profile()
                profiler.enable()
                for environ in batch:
                    call(app, environ)
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
                continue
            batches, walls = [], []
            for _ in range(args.batches):
                batch = [(app, environ) for environ in environs(args.n)]
                started, wall = time.process_time(), time.perf_counter()
                # Inside starmap so that callgrind can count these requests alone
                # (--collect-atstart=no --toggle-collect=starmap_next).
                for _ in starmap(call, batch):
                    pass
                batches.append(time.process_time() - started)
                walls.append(time.perf_counter() - wall)
            if args.n:
                best, median = min(batches), statistics.median(batches)
                # With a database server, the wall time holds its part of each request
                # (and the round trips), which this process's CPU time leaves out.
                print(f"{name:18} {best / args.n * 1e6:6.0f} us/request "
                      f"(median batch {median / args.n * 1e6:.0f}; wall, best batch "
                      f"{min(walls) / args.n * 1e6:.0f})", flush=True)


if __name__ == "__main__":
    main()
