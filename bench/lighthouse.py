"""Lighthouse (npm's lighthouse, from `npm ci`) over the site's page types, mobile and desktop.

    .venv/bin/python bench/lighthouse.py                    # one page per type, both form factors
    .venv/bin/python bench/lighthouse.py --all              # every page the catalogue lists
    .venv/bin/python bench/lighthouse.py --only 'exercise|attempt' --form-factor mobile

Fills a temporary SQLite database as tests/page_catalogue.py does (demo learners, a
learner with an attempt at every exercise, an instructor, a learner who finished the
course), starts `gunicorn --config gunicorn.conf.py -w 2 --worker-class gthread
bench.wsgi:app` on a free local port (threads: Chromium's spare connections would hold
sync workers until they time out), signs the learner and the instructor in through the
real form with the app's test client, and runs bench/lighthouse.mjs, which
drives Lighthouse in one headless Chromium (CHROME_PATH, default /usr/bin/chromium),
passing each role's session cookie as an extra request header. Prints the four category
scores per page and form factor, then every audit that cost a point. The catalogue's
error states that only a POST produces are left out (Lighthouse loads pages with GET), and
so are the "not found" pages: Lighthouse refuses to audit a page answered with a 404.

The default set is one page per type: each (role, endpoint) once, and exercises, attempts
and submissions once per kind of exercise (each kind has its own form). `--runs 3` runs
each page three times and shows each category's median: on a loaded machine the
performance score (total blocking time above all) varies from run to run. Exits 1 when
any score is below 100. Not part of the test suite: a run takes 10 to 40 minutes on these
shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from learner_pages import HOST, free_port, wait_until_up  # noqa: E402

from course import create_app  # noqa: E402
from course.db import get_engine  # noqa: E402
from course.site import get_course  # noqa: E402
from tests import page_catalogue  # noqa: E402

SECRET_KEY = "lighthouse-only-secret"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
RUNNER = REPO_ROOT / "bench" / "lighthouse.mjs"


def page_types(visits: list[page_catalogue.Visit], kinds: dict[str, str],
               every: bool) -> list[page_catalogue.Visit]:
    """The GET visits; unless `every`, one per role and endpoint (per kind of exercise
    for exercise, attempt and submission pages)."""
    chosen, seen = [], set()
    for visit in visits:
        if visit.form is not None or visit.status != 200:
            continue
        exercise = re.search(r"/(?:exercises|attempts|submissions)/([\w-]+)", visit.url)
        kind = kinds.get(exercise.group(1), "") if exercise else ""
        if visit.endpoint in ("learn.attempt", "instruct.submission"):
            kind = next((k for name, k in kinds.items() if visit.name.endswith(name)), "")
        key = (visit.role, visit.endpoint or visit.name, kind)
        if every or key not in seen:
            seen.add(key)
            chosen.append(visit)
    return chosen


def main() -> int:
    # A SIGTERM (timeout, kill) unwinds like Ctrl+C, so gunicorn and Chromium are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every GET page of the catalogue")
    parser.add_argument("--only", help="a regular expression the page names must match")
    parser.add_argument("--form-factor", choices=("mobile", "desktop"), action="append",
                        help="mobile, desktop or both (the default)")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs per page; the table shows each category's median")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    form_factors = args.form_factor or ["mobile", "desktop"]
    if not (REPO_ROOT / "node_modules" / "lighthouse").exists():
        print("node_modules/lighthouse is missing: run `npm ci --ignore-scripts`",
              file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'lighthouse.db'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY})
        filled = page_catalogue.fill(app)
        with app.app_context():
            kinds = {e.id: e.kind for e in get_course().exercises}
        visits = page_types(page_catalogue.visits(app, filled), kinds, args.all)
        if args.only:
            visits = [v for v in visits if re.search(args.only, f"{v.role}: {v.name}")]
        if not visits:
            raise SystemExit(f"no page's name matches {args.only!r}")

        # Signed in through the real form by the app's test client: the session cookie
        # it gets is signed with the same key, so the server accepts it.
        cookies = {role: session_cookie(app, filled, role)
                   for role in ("learner", "instructor")}
        get_engine(app).dispose()
        with gunicorn(url, workdir) as base:
            pages = [{"name": f"{v.role}: {v.name}", "url": base + v.url,
                      "cookie": cookies.get(v.role)} for v in visits]
            print(f"Lighthouse over {len(pages)} pages x {len(form_factors)} form factors "
                  f"({'every page' if args.all else 'one per page type'})", flush=True)
            results = medians(run_lighthouse(pages * args.runs, form_factors))

    print("\nCommand: " + shlex.join([sys.executable, *sys.argv]))
    return report(results, base, args.json)


def session_cookie(app: Flask, filled: page_catalogue.Filled, role: str) -> str:
    """The Cookie header of `role` signed in through the sign-in form."""
    client = app.test_client()
    email, password = page_catalogue.credentials(role, filled) or ("", "")
    form = page_catalogue.hidden_fields(client.get("/signin").get_data(as_text=True))
    answer = client.post("/signin", data={**form, "email": email, "password": password})
    cookie = client.get_cookie("session")
    if answer.status_code != 302 or cookie is None:
        raise SystemExit(f"{role} could not sign in ({answer.status_code})")
    return f"session={cookie.value}"


@contextmanager
def gunicorn(url: str, workdir: Path) -> Iterator[str]:
    """The README's production settings (gunicorn.conf.py) with two threaded workers, on
    the database; yields the base URL. Threads, because Chromium opens spare connections
    it may never send a request on: each would hold a sync worker until its timeout."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    command = [str(Path(sys.executable).with_name("gunicorn")), "--config", "gunicorn.conf.py",
               "-w", "2", "--worker-class", "gthread", "--threads", "4",
               "-b", f"{HOST}:{port}", "--log-level", "warning", "bench.wsgi:app"]
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    with (workdir / "gunicorn.log").open("w") as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(base, server)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()


def run_lighthouse(pages: list[dict[str, object]], form_factors: list[str]) -> list[dict]:
    """bench/lighthouse.mjs's results, one per page and form factor, shown as they come."""
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    process = subprocess.Popen(["node", str(RUNNER)], cwd=REPO_ROOT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin and process.stdout
    process.stdin.write(json.dumps({"pages": pages, "formFactors": form_factors}))
    process.stdin.close()
    results = []
    try:
        for line in process.stdout:
            result = json.loads(line)
            results.append(result)
            scores = " ".join(f"{result['scores'][c]!s:>3}" for c in CATEGORIES)
            lost = ", ".join(f"{x['id']} {x['value']}".strip() for x in result["losses"])
            print(f"  {result['formFactor']:<7} {scores}  {result['name']}"
                  f"  (CPU index {result['benchmarkIndex']})"
                  + (f"  [{lost}]" if lost else "")
                  + (f"  ERROR {result['runtimeError']}" if result["runtimeError"] else ""),
                  flush=True)
    finally:
        if process.poll() is None:
            process.terminate()  # interrupted: the runner's exit handler closes Chromium
        process.wait()
    if process.returncode != 0:
        raise SystemExit(f"bench/lighthouse.mjs exited with status {process.returncode}")
    return results


def medians(results: list[dict]) -> list[dict]:
    """One result per page and form factor: each category's median over the runs, with
    the audits of the run whose performance score is the median (Lighthouse's advice
    for noisy machines is the median of several runs)."""
    runs: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        runs.setdefault((r["name"], r["formFactor"]), []).append(r)
    merged = []
    for group in runs.values():
        ordered = sorted(group, key=lambda r: r["scores"]["performance"] or 0)
        middle = dict(ordered[len(ordered) // 2])
        middle["scores"] = {c: statistics.median_low([r["scores"][c] or 0 for r in group])
                            for c in CATEGORIES}
        middle["runs"] = [r["scores"] for r in group]
        merged.append(middle)
    return merged


def report(results: list[dict], base: str, json_path: Path | None) -> int:
    """The table of scores, then each audit that cost points with the pages it hit."""
    header = f"{'page':<58} {'form':<7} {'perf':>4} {'a11y':>4} {'b.p.':>4} {'seo':>4}"
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        print(f"{r['name'][:58]:<58} {r['formFactor']:<7} "
              + " ".join(f"{r['scores'][c]!s:>4}" for c in CATEGORIES))
    losses: dict[tuple[str, str], list[str]] = {}
    for r in results:
        if r["runtimeError"]:
            losses.setdefault(("error", r["runtimeError"]), []).append(r["name"])
        for loss in r["losses"]:
            note = f" ({loss['value']})" if loss["value"] else ""
            losses.setdefault((loss["category"], loss["id"]), []).append(
                f"{r['name']} [{r['formFactor']}]{note}")
    if losses:
        print("\nAudits that cost points:")
        for (category, audit), where in sorted(losses.items()):
            print(f"  {category} / {audit}: {len(where)} run(s)")
            for w in where[:6]:
                print(f"      {w}")
    if json_path:
        json_path.write_text(json.dumps(results, indent=1).replace(base, ""))
    speeds = sorted(r["benchmarkIndex"] for r in results)
    print(f"\nLighthouse's CPU benchmark index over the runs: {speeds[0]} to {speeds[-1]} "
          f"(median {speeds[len(speeds) // 2]}). The mobile 4x CPU slowdown is meant for a "
          "fast desktop CPU; on a slow or busy one it inflates total blocking time.")
    perfect = all(all(r["scores"][c] == 100 for c in CATEGORIES) for r in results)
    print("\nEvery page scored 100 in all four categories." if perfect
          else "\nNot every score is 100.")
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main())
