"""CPU time per request of the signed-in learner pages, in process (no server, no wrk).

    .venv/bin/python bench/learner_inprocess.py                      # every page
    .venv/bin/python bench/learner_inprocess.py --pages submit --profile

Fills a temporary SQLite database as bench/learner_pages.py does (200 demo learners /
5,000 attempts, the same learner and pages), signs in through the real form with
werkzeug's test client and calls the WSGI app directly: a hello-world Flask app, the
exercise page with its board, My progress, the learner's own attempt and a final-quiz
submission (each with a new idempotency token). For each page it prints the lowest and
the median of 5 runs of --requests requests, as process CPU time per request: on a
shared machine that moves much less with the load than wrk's throughput, so it is what
before/after comparisons of one change quote. --profile prints cProfile's top functions
for each page instead.
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
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import learner_pages as lp  # noqa: E402  (beside this script)
from flask import Flask  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from course import create_app  # noqa: E402

PAGES = ("hello", "exercise", "progress", "attempt", "submit")
UA = {"User-Agent": lp.USER_AGENT}


def signed_in(app: Flask, email: str) -> Client:
    client = Client(app)
    page = client.get("/signin", headers=UA).get_data(as_text=True)
    match = lp.CSRF_INPUT.search(page)
    if match is None:
        raise SystemExit("no csrf_token on /signin")
    answer = client.post("/signin", headers=UA, data={
        "csrf_token": match.group(1) or match.group(2), "email": email,
        "password": lp.PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in answered {answer.status_code}, not 302")
    client.get("/", headers=UA)  # the session gets its CSRF token, as a browser's would
    return client


def requests(app: Flask, prepared: lp.Prepared) -> dict[str, Callable[[], None]]:
    """One request per page, checked for the status a browser would get."""
    learner = signed_in(app, prepared.email)
    poster = signed_in(app, prepared.submitters[0])
    page = poster.get(f"/exercises/{lp.SUBMITTED}", headers=UA).get_data(as_text=True)
    envelope = {}
    for tag in lp.HIDDEN_INPUT.findall(page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and name.group(1) != "submission_token":
            envelope[name.group(1)] = value.group(1)
    fields = list(envelope.items()) + prepared.answer
    hello = Flask("bench_hello")
    hello.get("/")(lambda: "hello")
    hello_client = Client(hello)

    def get(client: Client, path: str) -> Callable[[], None]:
        def one() -> None:
            response = client.get(path, headers=UA)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")
            response.close()
        return one

    def submit() -> None:
        body = urllib.parse.urlencode([*fields, ("submission_token", uuid.uuid4().hex)])
        response = poster.post(f"/exercises/{lp.SUBMITTED}", data=body, headers={
            **UA, "Content-Type": "application/x-www-form-urlencoded"})
        if response.status_code != 303:
            raise SystemExit(f"the submission answered {response.status_code}, not 303")
        response.close()

    return {"hello": get(hello_client, "/"),
            "exercise": get(learner, f"/exercises/{lp.EXERCISE}"),
            "progress": get(learner, "/progress"),
            "attempt": get(learner, f"/attempts/{prepared.attempt_id}"), "submit": submit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--requests", type=int, default=300, help="per run (5 runs a page)")
    parser.add_argument("--profile", action="store_true", help="cProfile instead of times")
    args = parser.parse_args()
    pages = args.pages.split(",")
    if unknown := set(pages) - set(PAGES):
        raise SystemExit(f"unknown pages: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as workdir:
        prepared = lp.prepare_database(None, Path(workdir), learners=200, attempts=5000,
                                       seed=1, submitters=1)
        os.environ.update(DATABASE_URL=prepared.url, SECRET_KEY=lp.SECRET_KEY)
        app = create_app()
        logging.disable(logging.CRITICAL)  # the request log would measure the terminal
        calls = requests(app, prepared)
        print(f"CPU ms per request (lowest and median of 5 runs of {args.requests}):")
        for name in pages:
            one = calls[name]
            for _ in range(20):
                one()
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.requests):
                    one()
                profiler.disable()
                print(f"--- {name}")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
                continue
            runs = []
            for _ in range(5):
                started = time.process_time()
                for _ in range(args.requests):
                    one()
                runs.append((time.process_time() - started) / args.requests * 1000)
            print(f"  {name:10s} {min(runs):6.3f}  {statistics.median(runs):6.3f}")


if __name__ == "__main__":
    main()
