"""Benchmark the instructor pages at 1,000, 100,000 and 1,000,000 attempts, as ratios to a
lesson page measured interleaved with them.

    .venv/bin/python bench/instructor_pages.py                       # SQLite
    .venv/bin/python bench/instructor_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

For each size it opens a database holding that many attempts (bench/databases.py: filled
once, in minutes, and reused by later runs from --workdir, or from one schema per size in
the --database-url database), signs an instructor in with Flask's test client and, in each
of --rounds rounds, times every page against the lesson page in the same round, request for
request (lesson, page, lesson, page, ...), so load from elsewhere on the machine falls on
both alike. A page's ratio is the median over rounds of (its median time / the lesson's
median time in that round); the spread is the lowest and highest round. It also counts
each page's SQL statements, which must not grow with the data.

It ends by checking the issue's bar: the dashboard and misconceptions cost within 2x of
each other at the smallest and largest size, and within 3x of a lesson page.
Not a test: it prints tables.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import time
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from databases import Filled, filled_database, size_label  # beside this script
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from course import create_app
from course.content.schema import Course
from course.db import get_engine, get_session
from course.models import Attempt, Role, User
from course.models.attempt import AttemptStatus
from course.services.accounts import create_user
from course.services.reports.gradebook import TOTAL, GradebookOrder, GradebookSort
from course.site import get_course

INSTRUCTOR = ("bench-instructor@example.com", "bench-password-123")
DEEP_PAGES = 50
OLDER_LINK = re.compile(r'<a rel="next"[^>]*href="([^"]+)"')
BASELINE = "lesson page"
# The pages the issue holds to "the same cost at 1,000 and 1,000,000 attempts".
FLAT = ("dashboard", "misconceptions")
FLAT_ACROSS_SIZES = 2.0
WITHIN_LESSON = 3.0


@dataclass
class Result:
    queries: int = 0
    ratios: list[float] = field(default_factory=list)  # one per round
    times_ms: list[float] = field(default_factory=list)  # the page's median per round
    status: int = 200

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else math.nan

    @property
    def ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else math.nan


def app_for(filled: Filled) -> Flask:
    return create_app({"DATABASE_URL": filled.url, "SECRET_KEY": "bench-only",
                       "WTF_CSRF_ENABLED": False, "TESTING": False,
                       "LOG_LEVEL": "WARNING"})  # no request log in the timings


def signed_in(app: Flask) -> FlaskClient:
    """A client signed in as the bench's instructor (made on first use of a database)."""
    with app.app_context():
        session = get_session()
        if session.scalar(select(User.id).where(User.email == INSTRUCTOR[0])) is None:
            create_user(session, INSTRUCTOR[0], "Bench Instructor", INSTRUCTOR[1],
                        Role.INSTRUCTOR)
    client = app.test_client()
    response = client.post("/signin", data={"email": INSTRUCTOR[0], "password": INSTRUCTOR[1]})
    assert response.status_code == 302, "could not sign the instructor in"
    return client


def deep_queue_url(client: FlaskClient) -> str:
    """Follow the queue's "Older" link DEEP_PAGES times, as a reader paging back would."""
    url = "/instructor/submissions"
    for _ in range(DEEP_PAGES):
        match = OLDER_LINK.search(client.get(url).get_data(as_text=True))
        if match is None:
            break
        url = unescape(match.group(1))
    return url


def page_urls(app: Flask, client: FlaskClient) -> dict[str, str]:
    """Every page to time, the lesson first. The learner is one with the most attempts and
    the submission the newest awaiting review (set-up queries, not timed)."""
    with app.app_context():
        session, course = get_session(), get_course()
        lesson = next(s for s in course.steps if s.kind == "lesson")
        learner = session.execute(
            select(Attempt.user_id, func.count()).group_by(Attempt.user_id)
            .order_by(func.count().desc(), Attempt.user_id).limit(1)).one()[0]
        awaiting = session.scalar(select(func.max(Attempt.id)).where(
            Attempt.status == AttemptStatus.AWAITING_REVIEW.value))
        learners = session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.LEARNER.value)) or 0
        size = app.config["GRADEBOOK_PAGE_SIZE"]
        last_page = max(1, math.ceil(learners / size))
        # The last page as a reader paging with Next reaches it: after the last learner
        # of the page before, by name (the default order) and by total, highest first.
        last_urls = {}
        for key, sort in (("name", GradebookSort()), ("total", GradebookSort(TOTAL, True))):
            before_last = session.scalar(
                GradebookOrder(course, sort).query.offset((last_page - 1) * size - 1).limit(1)
            ) if last_page > 1 else None
            args = {**sort.query_args(), **({"page": str(last_page), "after": str(before_last)}
                                            if before_last is not None else {})}
            last_urls[key] = "/instructor/gradebook" + (f"?{urlencode(args)}" if args else "")
    return {
        BASELINE: f"/lessons/{lesson.id}",
        "dashboard": "/instructor/",
        "misconceptions": "/instructor/misconceptions",
        "activity, 12 weeks": "/instructor/activity?weeks=12",
        "gradebook, first page": "/instructor/gradebook",
        "gradebook, last page": last_urls["name"],
        "gradebook by total, last": last_urls["total"],
        "queue, first page": "/instructor/submissions",
        f"queue, {DEEP_PAGES} pages deep": deep_queue_url(client),
        "queue, awaiting review": "/instructor/submissions?status=awaiting_review",
        "submission page": f"/instructor/submissions/{awaiting}",
        "learner page": f"/instructor/learners/{learner}",
    }


def timed_get(client: FlaskClient, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    response.close()
    return time.perf_counter() - started, response.status_code


def count_queries(app: Flask, client: FlaskClient, url: str) -> tuple[int, int]:
    """(SQL statements, status) of one request."""
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("")

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        _, status = timed_get(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), status


def measure(app: Flask, client: FlaskClient, urls: dict[str, str], rounds: int,
            requests: int) -> dict[str, Result]:
    results = {}
    for label, url in urls.items():
        timed_get(client, url)  # warm-up: templates compiled, caches filled
        queries, status = count_queries(app, client, url)
        results[label] = Result(queries=queries, status=status)
    for _ in range(rounds):
        for label, url in urls.items():
            result = results[label]
            if result.status != 200 or label == BASELINE:
                continue
            lesson_times, page_times = [], []
            for _ in range(requests):
                lesson_times.append(timed_get(client, urls[BASELINE])[0])
                page_times.append(timed_get(client, url)[0])
            lesson, page = statistics.median(lesson_times), statistics.median(page_times)
            result.ratios.append(page / lesson)
            result.times_ms.append(page * 1000)
            results[BASELINE].times_ms.append(lesson * 1000)
            results[BASELINE].ratios.append(1.0)
    return results


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def report(backend: str, sizes: list[Filled], results: list[dict[str, Result]],
           args: argparse.Namespace) -> bool:
    print(f"\n{backend}: ratio to the lesson page, median of {args.rounds} rounds of "
          f"{args.requests} interleaved requests (lowest-highest round); queries per request.")
    for filled in sizes:
        how = ("reused" if filled.reused else f"filled in {filled.seconds:.0f} s")
        print(f"  {size_label(filled.attempts)}: {filled.attempts:,} attempts, "
              f"{filled.learners:,} users ({how})")
    header = f"{'page':<26}" + "".join(f"{size_label(f.attempts):>27}" for f in sizes)
    print(header)
    print("-" * len(header))
    for label in results[0]:
        cells = []
        for result in (r[label] for r in results):
            if result.status != 200:
                cells.append(f"{'HTTP ' + str(result.status):>27}")
            elif label == BASELINE:
                cells.append(f"{f'{result.ms:.1f} ms':>18} {f'{result.queries} q':>8}")
            else:
                cells.append(f"{result.ratio:>7.2f} ({spread(result.ratios):>9}) "
                             f"{result.queries:>3} q")
        print(f"{label:<26}" + "".join(f"{c:>27}" for c in cells))
    ok = True
    small, large = results[0], results[-1]
    print()
    for label in FLAT:
        growth = large[label].ratio / small[label].ratio
        worst = max(r[label].ratio for r in results)
        good = growth <= FLAT_ACROSS_SIZES and 1 / growth <= FLAT_ACROSS_SIZES and (
            worst <= WITHIN_LESSON)
        ok = ok and good
        print(f"{label}: {size_label(sizes[-1].attempts)} / {size_label(sizes[0].attempts)} "
              f"= {growth:.2f} (bar: within {FLAT_ACROSS_SIZES:g}x), at most "
              f"{worst:.2f}x a lesson page (bar: {WITHIN_LESSON:g}x): "
              f"{'met' if good else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000",
                        help="attempts per database, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5,
                        help="requests per page (and as many lesson requests) per round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url",
                        help="PostgreSQL: fill schemas bench_1k, bench_100k, ... in this database")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out",
                        help="where the SQLite databases are kept between runs")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    course = get_course_outside_a_request()
    sizes, results = [], []
    for attempts in (int(n) for n in args.sizes.split(",")):
        filled = filled_database(args.database_url, args.workdir, course, attempts, args.seed)
        app = app_for(filled)
        client = signed_in(app)
        results.append(measure(app, client, page_urls(app, client), args.rounds, args.requests))
        sizes.append(filled)
        get_engine(app).dispose()
    met = report("PostgreSQL" if args.database_url else "SQLite", sizes, results, args)
    raise SystemExit(0 if met else 1)


def get_course_outside_a_request() -> Course:
    """The course as the app loads it (an app on an in-memory database, only to read it)."""
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "bench-only",
                      "TESTING": False})
    with app.app_context():
        return get_course()


if __name__ == "__main__":
    main()
