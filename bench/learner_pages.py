"""Benchmark learner pages' throughput under gunicorn, relative to a hello-world route.

    .venv/bin/python bench/learner_pages.py                   # temporary SQLite
    .venv/bin/python bench/learner_pages.py --seconds 10 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Fills a fresh database with course.demo (a temporary SQLite file unless --database-url is
given; that database's tables are dropped and recreated), starts
`gunicorn --config gunicorn.conf.py -w 2 bench.wsgi:app` on a free port of 127.0.0.1,
signs a demo learner in with urllib (one who still has attempts left, so the exercise
page shows its board) and runs `wrk` against each page for a fixed time, in rounds; the
submission is posted by other demo learners through a generated wrk Lua script that
carries each one's CSRF token and a fresh idempotency token. bench/wsgi.py serves a
hello-world route from the same workers; since these machines are noisy, every page run
follows its own hello-world run and is reported as the median ratio to it over the
rounds, with the lowest and highest round as its spread. Not a test: it prints a
table. Needs `wrk` (Debian: apt-get install wrk); without it, exits with status 2.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from databases import empty_database  # noqa: E402  (beside this script)

from course import create_app, demo  # noqa: E402
from course.db import get_engine, get_session, make_engine  # noqa: E402
from course.grading import registry  # noqa: E402
from course.models import Attempt, User  # noqa: E402
from course.site import get_course  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "bench-password-123"
SECRET_KEY = "bench-only-secret"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'
                        r'|value="([^"]+)"[^>]*name="csrf_token"')
EXERCISE = "build-now-next-later"
PAGE_KEYS = ("home", "lesson", "lesson-signed-in", "exercise", "progress", "attempt", "submit")
SUBMITTED = "final-quiz"
USER_AGENT = "course-bench"
HIDDEN_INPUT = re.compile(r'<input[^>]*type="hidden"[^>]*>')
# Issue 9's targets, as ratios to hello-world: anonymous pages, signed-in pages, a submission.
TARGETS = {"home": 0.6, "lesson": 0.6, "submit": 0.1}
SIGNED_IN_TARGET = 0.35
FLOOR = "lesson-signed-in"  # the plainest signed-in page (see main)


@dataclass
class Result:
    page: str
    path: str
    requests_per_s: float
    avg_ms: float
    p50_ms: float
    errors: str
    requests: int
    refused: int  # answered with neither 2xx nor 3xx


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as it is: a signed-out page must not pass as the sign-in page."""

    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Prepared:
    url: str
    email: str  # the learner whose pages are measured (they still see the board)
    lesson: str
    attempt_id: int  # one of their own attempts
    submitters: list[str]  # other learners, who post the submissions
    answer: list[tuple[str, str]]  # answer fields of a real attempt at SUBMITTED


def prepare_database(url: str | None, workdir: Path, learners: int, attempts: int,
                     seed: int, submitters: int) -> Prepared:
    """Fill the database; who signs in, and what they open and submit."""
    url = empty_database(url, workdir, "bench")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        session = get_session()
        demo.fill(session, get_course(), learners=learners, attempts=attempts,
                  seed=seed, password=PASSWORD)
        # A learner with attempts of their own who may still submit the board exercise,
        # so the exercise page is measured with its board, as they would see it.
        limit = get_course().exercise(EXERCISE).policy.max_attempts or 10**9
        used = (select(func.count()).where(Attempt.user_id == User.id,
                                           Attempt.exercise_id == EXERCISE)
                .correlate(User).scalar_subquery())
        row = session.execute(
            select(User.email, func.max(Attempt.id))
            .join(Attempt, Attempt.user_id == User.id)
            .where(User.email.like(f"%@{demo.DEMO_DOMAIN}"), used < limit)
            .group_by(User.id, User.email).order_by(User.id).limit(1)).first()
        if row is None:
            raise SystemExit("no demo learner with attempts left at the board; "
                             "lower --attempts or raise --learners")
        email, attempt_id = row
        lesson = next(s.id for s in get_course().steps if s.kind == "lesson")
        # Submissions go to an exercise without an attempt limit, so every round can post
        # as many as the server takes; the answer is a demo learner's real one.
        exercise = get_course().exercise(SUBMITTED)
        if exercise is None or exercise.policy.max_attempts is not None:
            raise SystemExit(f"{SUBMITTED} must be an exercise without an attempt limit")
        answer = session.scalars(select(Attempt.answer).where(Attempt.exercise_id == SUBMITTED)
                                 .order_by(Attempt.id).limit(1)).one()
        # One learner per wrk connection, as in a class: one learner posting several forms
        # at the same instant is not what this measures.
        others = list(session.scalars(
            select(User.email).where(User.email.like(f"%@{demo.DEMO_DOMAIN}"),
                                     User.email != email).order_by(User.id).limit(submitters)))
        if len(others) < submitters:
            raise SystemExit("fewer demo learners than wrk connections: raise --learners")
        fields = [(name, value) for name, values in
                  registry.form_from_answer(exercise, answer).items() for value in values]
    get_engine(app).dispose()
    return Prepared(url, email, lesson, attempt_id, others, fields)


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/__hello", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


def sign_in(base: str, email: str) -> str:
    """Sign in through the real form; the Cookie header value of the signed-in session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    # Flask-Login's session protection ties a session to its browser's User-Agent: wrk
    # sends the same one, or every request would rewrite the session cookie.
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/signin", timeout=10) as response:
        page = response.read().decode()
    match = CSRF_INPUT.search(page)
    if match is None:
        raise SystemExit("no csrf_token on /signin")
    form = urllib.parse.urlencode({"csrf_token": match.group(1) or match.group(2),
                                   "email": email, "password": PASSWORD}).encode()
    try:
        opener.open(f"{base}/signin", data=form, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise SystemExit(f"sign-in answered {answer.code}, not 302") from answer
    else:
        raise SystemExit("sign-in did not redirect: wrong email or password?")
    # One page in the browser's shoes: the session then holds its CSRF token, as a real
    # browser's would after its first page, so wrk's fixed cookie does not make every
    # measured request mint a new token and a new session cookie.
    with opener.open(f"{base}/", timeout=10) as response:
        response.read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if not cookie:
        raise SystemExit("sign-in set no cookie")
    return cookie


def check_page(base: str, path: str, cookie: str | None) -> None:
    """One request: the page must answer 200 itself (no redirect to the sign-in page)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        base + path, headers={"Cookie": cookie, "User-Agent": USER_AGENT} if cookie else {})
    try:
        with opener.open(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as answer:
        status = answer.code
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}, not 200"
                         + (" (is the session cookie accepted?)" if cookie else ""))


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


@dataclass
class Page:
    key: str  # for --pages
    label: str
    path: str
    cookie: str | None = None
    post: bool = False  # a submission: wrk posts through submit.lua


def form_envelope(base: str, path: str, cookie: str) -> dict[str, str]:
    """The hidden fields of the exercise form as the learner's browser gets them (CSRF
    token, exercise version, a submission token)."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie,
                                                           "User-Agent": USER_AGENT})
    with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
        page = response.read().decode()
        if response.headers.get("Set-Cookie"):
            raise SystemExit(f"{path} changed the session cookie: wrk's copy would be stale")
    fields = {}
    for tag in HIDDEN_INPUT.findall(page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields[name.group(1)] = value.group(1)
    if not {"csrf_token", "exercise_version", "submission_token"} <= fields.keys():
        raise SystemExit(f"the form on {path} lacks its CSRF or idempotency token")
    return fields


def submission_script(workdir: Path, path: str, learners: list[tuple[str, dict[str, str]]],
                      answer: list[tuple[str, str]], nonce: int) -> Path:
    """A wrk script posting the form as the given learners (each with their session cookie
    and their page's CSRF token; wrk's threads take turns over separate learners), with
    a new idempotency token per request (a resent token would only fetch the stored
    attempt back), unique across threads and runs: run nonce, thread number, counter."""
    posts = []
    for cookie, envelope in learners:
        fields = [(k, v) for k, v in envelope.items() if k != "submission_token"] + answer
        posts.append(f"{{cookie = {lua_string(cookie)}, "
                     f"body = {lua_string(urllib.parse.urlencode(fields))}}}")
    script = workdir / "submit.lua"
    script.write_text(f"""
local nonce = "{nonce:08d}"
local learners = {{{", ".join(posts)}}}
local thread_count = 0
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end
function init(args)
  thread_count = tonumber(args[1])
end
statuses = {{}}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %d: %d\\n", status, count))
    end
  end
end
local sent = 0
function request()
  sent = sent + 1
  local token = string.format("%s%04d%020d", nonce, thread_number, sent)
  -- thread t posts as learners t, t + threads, t + 2 threads, ... in turn
  local mine = math.floor((#learners - thread_number) / thread_count) + 1
  local learner = learners[thread_number + thread_count * ((sent - 1) % mine)]
  return wrk.format("POST", {lua_string(path)},
                    {{["Cookie"] = learner.cookie, ["User-Agent"] = {lua_string(USER_AGENT)},
                      ["Content-Type"] = "application/x-www-form-urlencoded"}},
                    learner.body .. "&submission_token=" .. token)
end
""")
    return script


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stored_attempts(url: str, emails: list[str]) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(Attempt).join(User, Attempt.user_id == User.id)
                .where(User.email.in_(emails), Attempt.exercise_id == SUBMITTED)).scalar_one()
    finally:
        engine.dispose()


def run_wrk(wrk: str, base: str, page: Page, args: argparse.Namespace,
            script: Path | None = None) -> Result:
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
               "--latency", "--timeout", "10s"]
    if page.cookie:
        command += ["-H", f"Cookie: {page.cookie}", "-H", f"User-Agent: {USER_AGENT}"]
    if args.accept_encoding:
        command += ["-H", f"Accept-Encoding: {args.accept_encoding}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(base + page.path)
    if script is not None:
        command += ["--", str(args.threads)]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=args.seconds + 30).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    avg = re.search(r"Latency\s+([\d.]+\w+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+\w+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rate and avg and p50 and total):
        raise SystemExit(f"could not read wrk's output for {page.path}:\n{output}")
    errors = []
    refused = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        refused = int(match.group(1))
        errors.append(f"{refused} non-2xx/3xx")
    if match := re.search(r"Socket errors: (.*)", output):
        errors.append("socket errors: " + match.group(1))
    refusals = Counter()
    for status, count in re.findall(r"^status (\d+): (\d+)$", output, re.M):
        if not 200 <= int(status) < 400:
            refusals[status] += int(count)
    if refusals:
        errors.append(", ".join(f"{n} x {status}" for status, n in sorted(refusals.items())))
    return Result(page.label, page.path, float(rate.group(1)), to_ms(avg.group(1)),
                  to_ms(p50.group(1)), "; ".join(errors), int(total.group(1)), refused)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=3, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn -w")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="use this database (its tables are dropped!)")
    parser.add_argument("--accept-encoding", metavar="CODINGS",
                        help="send this Accept-Encoding with every request, as a browser "
                             "does (Chrome: 'gzip, deflate, br, zstd'); by default none, "
                             "as wrk, so no page is compressed")
    parser.add_argument("--pages", help="comma-separated subset of: " + ", ".join(PAGE_KEYS))
    args = parser.parse_args()
    chosen = set(args.pages.split(",")) if args.pages else set(PAGE_KEYS)
    if unknown := chosen - set(PAGE_KEYS):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")

    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (Debian: apt-get install wrk); nothing measured.",
              file=sys.stderr)
        return 2
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        gunicorn = Path(shutil.which("gunicorn") or "gunicorn")

    with tempfile.TemporaryDirectory(prefix="bench-learner-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        prepared = prepare_database(args.database_url, workdir, args.learners, args.attempts,
                                    args.seed, args.connections)
        url = prepared.url
        print(f"Filled {args.learners:,} learners / {args.attempts:,} attempts in "
              f"{time.perf_counter() - started:.1f} s; pages as {prepared.email}, "
              f"submissions as {len(prepared.submitters)} others.", flush=True)

        port = free_port()
        base = f"http://{HOST}:{port}"
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
        # The README's production settings (gunicorn.conf.py: preloaded app, timeouts),
        # with the benchmark's number of workers and the hello-world route beside the app.
        server_command = [str(gunicorn), "--config", "gunicorn.conf.py", "-w", str(args.workers),
                          "-b", f"{HOST}:{port}", "--log-level", "warning", "bench.wsgi:app"]
        log = (workdir / "gunicorn.log").open("w")
        server = subprocess.Popen(server_command, cwd=REPO_ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(base, server)
            cookie = sign_in(base, prepared.email)
            submitters = [sign_in(base, email) for email in prepared.submitters]
            hello = Page("hello", "hello world (baseline)", "/__hello")
            pages = [page for page in (
                Page("home", "course home, anonymous", "/"),
                Page("lesson", "lesson, anonymous", f"/lessons/{prepared.lesson}"),
                # The plainest signed-in page (the sign-in's one query, a short template):
                # the floor under every other signed-in page's ratio.
                Page("lesson-signed-in", "lesson, signed in", f"/lessons/{prepared.lesson}",
                     cookie),
                Page("exercise", "exercise with its board, signed in",
                     f"/exercises/{EXERCISE}", cookie),
                Page("progress", "my progress, signed in", "/progress", cookie),
                Page("attempt", "own attempt, signed in", f"/attempts/{prepared.attempt_id}",
                     cookie),
                Page("submit", "submission (final quiz), signed in",
                     f"/exercises/{SUBMITTED}", post=True),
            ) if page.key in chosen]
            for page in [hello, *pages]:
                check_page(base, page.path, page.cookie)
            posting = [(cookie, form_envelope(base, f"/exercises/{SUBMITTED}", cookie))
                       for cookie in submitters]
            before = stored_attempts(url, prepared.submitters)
            # Each page runs right after a hello-world run in every round, and its ratio
            # is to that neighbour, so load from elsewhere on the machine hits both alike.
            ratios: dict[str, list[float]] = {page.label: [] for page in pages}
            results: dict[str, list[Result]] = {page.label: [] for page in [hello, *pages]}
            for round_number in range(1, args.rounds + 1):
                for page in pages:
                    script = None
                    if page.post:
                        script = submission_script(workdir, page.path, posting,
                                                   prepared.answer, round_number)
                    baseline = run_wrk(wrk, base, hello, args)
                    measured = run_wrk(wrk, base, page, args, script)
                    results[hello.label].append(baseline)
                    results[page.label].append(measured)
                    ratios[page.label].append(measured.requests_per_s / baseline.requests_per_s)
                print(f"  round {round_number} of {args.rounds} measured", flush=True)
            posted = sum(r.requests - r.refused
                         for page in pages if page.post for r in results[page.label])
            stored = stored_attempts(url, prepared.submitters) - before
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
            server_log = (workdir / "gunicorn.log").read_text()
            if server.returncode not in (0, -signal.SIGTERM):
                print(server_log, file=sys.stderr)
            elif "Traceback" in server_log:
                print("The server logged errors:\n" + server_log[server_log.index("Traceback")
                                                                  - 300:][:6000],
                      file=sys.stderr)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nMachine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end, "
          f"Python {platform.python_version()}, {platform.platform()}")
    print(f"Database: {backend}, {args.learners:,} demo learners / {args.attempts:,} "
          f"attempts; gunicorn --config gunicorn.conf.py -w {args.workers}; "
          f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s per run, "
          f"{args.rounds} rounds, each page right after its own hello-world run"
          + (f"; Accept-Encoding: {args.accept_encoding}" if args.accept_encoding else ""))
    print("Command: " + shlex.join([sys.executable, *sys.argv]))
    print("x hello: median over rounds of (page requests/s / the hello-world run just "
          "before it); spread: lowest to highest round; target: the least x hello asked "
          "(issue 9),\n  '<' marks a page below it; x floor: median over rounds of (x hello "
          "/ the signed-in lesson's x hello in the same round), for signed-in pages.\n")
    floor = next((page for page in pages if page.key == FLOOR), None)
    header = (f"{'page':<38} {'x hello':>8} {'spread':>13} {'target':>7} {'x floor':>7} "
              f"{'req/s':>7} {'p50 ms':>7}  path")
    print(header)
    print("-" * len(header))
    baselines = results[hello.label]
    print(f"{hello.label:<38} {1:>8.3f} {'':>13} {'':>7} {'':>7} "
          f"{statistics.median(r.requests_per_s for r in baselines):>7.0f} "
          f"{statistics.median(r.p50_ms for r in baselines):>7.2f}  {hello.path}")
    for page in pages:
        runs, r = results[page.label], ratios[page.label]
        errors = "; ".join(sorted({x.errors for x in runs if x.errors}))
        target = TARGETS.get(page.key, SIGNED_IN_TARGET)
        met = " " if statistics.median(r) >= target else "<"
        over_floor = ""
        if floor is not None and page.cookie and page is not floor:
            in_rounds = zip(r, ratios[floor.label], strict=True)
            over_floor = f"{statistics.median(x / f for x, f in in_rounds):.2f}"
        print(f"{page.label:<38} {statistics.median(r):>8.3f} {min(r):>6.3f}-{max(r):<6.3f} "
              f"{met}{target:>6.2f} {over_floor:>7} "
              f"{statistics.median(x.requests_per_s for x in runs):>7.0f} "
              f"{statistics.median(x.p50_ms for x in runs):>7.2f}  "
              f"{'POST ' if page.post else ''}{page.path}"
              + (f"  [{errors}]" if errors else ""))
    lost = stored < posted
    if any(page.post for page in pages):
        # wrk stops with up to -c requests still in flight: the server may store those
        # too, so stored can exceed acknowledged by that much, never fall short.
        print(f"\nSubmissions: {posted:,} acknowledged (303) to wrk, {stored:,} new attempts "
              "stored" + ("  [SOME ACKNOWLEDGED SUBMISSIONS WERE NOT STORED]" if lost else ""))
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
