"""Benchmark the instructor pages on a large cohort: SQL queries per request and time.

    .venv/bin/python bench/instructor_pages.py                # 2,000 learners, 100,000 attempts
    .venv/bin/python bench/instructor_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Fills a fresh database with course.demo (a temporary SQLite file unless --database-url is
given; that database's tables are dropped and recreated), signs in an instructor with
Flask's test client and, for each page, counts the SQL statements of one request and
takes the median time of --requests requests, relative to a lesson page in the same run.
It does the same on a small database to show that the query counts do not grow with the
data. Pages that are not there yet (404) are reported as such. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from databases import empty_database  # beside this script
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from course import create_app, demo
from course.db import get_engine, get_session
from course.models import Attempt, Role
from course.models.attempt import AttemptStatus
from course.services.accounts import create_user
from course.site import get_course

INSTRUCTOR = ("bench-instructor@example.com", "bench-password-123")
DEEP_PAGES = 50
OLDER_LINK = re.compile(r'<a rel="next"[^>]*href="([^"]+)"')


@dataclass
class Measure:
    queries: int | None = None
    median_ms: float | None = None
    status: int = 200


def build_app(url: str | None, workdir: Path, name: str) -> Flask:
    """An app on an empty database: a new SQLite file, or the given one wiped."""
    return create_app({"DATABASE_URL": empty_database(url, workdir, name),
                       "SECRET_KEY": "bench-only", "WTF_CSRF_ENABLED": False,
                       "TESTING": False})


def fill(app: Flask, learners: int, attempts: int, seed: int) -> tuple[float, int]:
    """Demo data plus an instructor; seconds taken and the newest attempt's id."""
    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        demo.fill(session, get_course(), learners=learners, attempts=attempts, seed=seed)
        took = time.perf_counter() - started
        create_user(session, INSTRUCTOR[0], "Bench Instructor", INSTRUCTOR[1], Role.INSTRUCTOR)
        newest = session.scalar(select(func.max(Attempt.id)).where(
            Attempt.status == AttemptStatus.AWAITING_REVIEW.value))
    return took, newest or 1


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/signin", data={"email": INSTRUCTOR[0], "password": INSTRUCTOR[1]})
    assert response.status_code == 302, "could not sign the instructor in"
    return client


def deep_queue_url(client: FlaskClient) -> str | None:
    """Follow the queue's "Older" link DEEP_PAGES times, as a reader paging back would."""
    url = "/instructor/submissions"
    for _ in range(DEEP_PAGES):
        response = client.get(url)
        if response.status_code != 200:
            return None
        match = OLDER_LINK.search(response.get_data(as_text=True))
        if match is None:
            break
        url = unescape(match.group(1))
    return url


def measure(app: Flask, client: FlaskClient, url: str, requests: int) -> Measure:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    response = client.get(url)  # warm-up (and the 404 check)
    response.close()
    if response.status_code != 200:
        return Measure(status=response.status_code)
    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    response = client.get(url)
    response.get_data()  # read it all: the CSV runs its queries as it streams
    response.close()  # ends a streamed response's app context, and its transaction
    event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        response.close()
        times.append(time.perf_counter() - started)
    return Measure(len(statements), statistics.median(times) * 1000)


def run(url: str | None, workdir: Path, name: str, learners: int, attempts: int, seed: int,
        requests: int) -> tuple[dict[str, Measure], dict[str, str], float]:
    app = build_app(url, workdir, name)
    took, attempt_id = fill(app, learners, attempts, seed)
    client = signed_in(app)
    with app.app_context():
        lesson = next(s for s in get_course().steps if s.kind == "lesson")
    last_page = math.ceil(learners / app.config["GRADEBOOK_PAGE_SIZE"])
    pages: dict[str, Callable[[], str | None]] = {
        "lesson page (baseline)": lambda: f"/lessons/{lesson.id}",
        "dashboard": lambda: "/instructor/",
        "queue, first page": lambda: "/instructor/submissions",
        f"queue, {DEEP_PAGES} pages deep": lambda: deep_queue_url(client),
        "queue, filtered (awaiting review)":
            lambda: "/instructor/submissions?status=awaiting_review",
        "submission page": lambda: f"/instructor/submissions/{attempt_id}",
        "gradebook, first page": lambda: "/instructor/gradebook",
        "gradebook, last page": lambda: f"/instructor/gradebook?page={last_page}",
        "misconceptions": lambda: "/instructor/misconceptions",
        "activity, 12 weeks": lambda: "/instructor/activity?weeks=12",
        "gradebook CSV (all learners)": lambda: "/instructor/gradebook.csv",
    }
    results, urls = {}, {}
    for label, make_url in pages.items():
        page_url = make_url()
        urls[label] = page_url or "-"
        results[label] = (measure(app, client, page_url, requests) if page_url
                          else Measure(status=404))
    get_engine(app).dispose()
    return results, urls, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--small-learners", type=int, default=50)
    parser.add_argument("--small-attempts", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="use this database (its tables are dropped!)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        small, _, small_fill = run(args.database_url, workdir, "small", args.small_learners,
                                   args.small_attempts, args.seed, 3)
        large, urls, large_fill = run(args.database_url, workdir, "large", args.learners,
                                      args.attempts, args.seed, args.requests)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}; demo data: {args.small_learners:,} learners / "
          f"{args.small_attempts:,} attempts ({small_fill:.1f} s to fill) and "
          f"{args.learners:,} learners / {args.attempts:,} attempts ({large_fill:.1f} s).")
    print(f"Median of {args.requests} requests per page on the large database.\n")
    baseline = large["lesson page (baseline)"].median_ms
    header = (f"{'page':<36} {'queries small':>13} {'queries large':>13} "
              f"{'median ms':>10} {'x lesson':>9}")
    print(header)
    print("-" * len(header))
    for label, result in large.items():
        if result.status != 200:
            print(f"{label:<36} {'(HTTP ' + str(result.status) + ': not there yet)':>47}")
            continue
        few = small[label].queries
        ratio = result.median_ms / baseline if baseline else float("nan")
        print(f"{label:<36} {few if few is not None else '-':>13} {result.queries:>13} "
              f"{result.median_ms:>10.1f} {ratio:>9.1f}")
    print(f"\nDeep queue page: {urls[f'queue, {DEEP_PAGES} pages deep']}")
    print("The CSV export reads learners in batches of 500, so its query count grows by "
          "three per 500 learners; every other page runs a fixed number of queries.")


if __name__ == "__main__":
    main()
