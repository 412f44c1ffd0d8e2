"""Where a gunicorn worker's time goes while wrk asks it for one page: py-spy samples it.

    .venv/bin/pip install py-spy        # a profiler, not a dependency of the app
    .venv/bin/python bench/worker_profile.py --page exercise
    .venv/bin/python bench/worker_profile.py --page exercise --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

bench/request_cost.py calls the app in process; this one profiles it as production runs
it, so gunicorn's own share (accepting the connection, parsing the request, writing the
response) is in the figures too. It fills the database as bench/learner_pages.py does,
starts `gunicorn --config gunicorn.conf.py -w 1 bench.wsgi:app` on 127.0.0.1, signs the
same demo learner in, runs wrk on the page (as that learner, for a signed-in page) and
records the one worker with `py-spy record` meanwhile, idle time left out. It prints the
share of the worker's samples spent inside each of the frames that matter most (a frame's
callees included), biggest first. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import learner_pages as lp  # beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = ("hello", "lesson", "lesson-signed-in", "exercise", "progress", "attempt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=PAGES, default="exercise")
    parser.add_argument("--seconds", type=int, default=10, help="how long py-spy samples")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=45, help="frames printed")
    parser.add_argument("--database-url", help="use this database (its tables are dropped!)")
    args = parser.parse_args()
    spy = Path(sys.executable).with_name("py-spy")
    tools = {"py-spy": str(spy) if spy.exists() else shutil.which("py-spy"),
             "wrk": shutil.which("wrk")}
    if missing := [name for name, path in tools.items() if path is None]:
        print(f"needs {' and '.join(missing)} (pip install py-spy; apt-get install wrk)",
              file=sys.stderr)
        return 2
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        workdir = Path(tmp)
        prepared = lp.prepare_database(args.database_url, workdir, 200, 5000, 1, 1)
        port = lp.free_port()
        base = f"http://{lp.HOST}:{port}"
        env = dict(os.environ, DATABASE_URL=prepared.url, SECRET_KEY=lp.SECRET_KEY)
        with (workdir / "gunicorn.log").open("w") as log:
            server = subprocess.Popen(
                [str(gunicorn), "--config", "gunicorn.conf.py", "-w", "1", "-b",
                 f"{lp.HOST}:{port}", "--log-level", "warning", "bench.wsgi:app"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            try:
                lp.wait_until_up(base, server)
                samples = _profile(args, tools, base, prepared, server.pid, workdir)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=15)
    _report(args, samples)
    return 0


def _profile(args: argparse.Namespace, tools: dict[str, str | None], base: str,
             prepared: lp.Prepared, master: int, workdir: Path) -> Path:
    """Run wrk on the page and py-spy on the worker; the raw (collapsed) samples."""
    signed_in = args.page not in ("hello", "lesson")
    path = {"hello": "/__hello", "lesson": f"/lessons/{prepared.lesson}",
            "lesson-signed-in": f"/lessons/{prepared.lesson}",
            "exercise": f"/exercises/{lp.EXERCISE}", "progress": "/progress",
            "attempt": f"/attempts/{prepared.attempt_id}"}[args.page]
    command = [str(tools["wrk"]), "-t1", "-c4", f"-d{args.seconds + 3}s"]
    if signed_in:
        cookie = lp.sign_in(base, prepared.email)
        command += ["-H", f"Cookie: {cookie}", "-H", f"User-Agent: {lp.USER_AGENT}"]
    lp.check_page(base, path, cookie if signed_in else None)
    worker = int(subprocess.check_output(["pgrep", "-P", str(master)], text=True).split()[0])
    raw = workdir / "samples.txt"
    load = subprocess.Popen([*command, base + path], stdout=subprocess.PIPE, text=True)
    time.sleep(1)  # past wrk's first connections
    subprocess.run([str(tools["py-spy"]), "record", "--pid", str(worker), "--rate",
                    str(args.rate), "--duration", str(args.seconds), "--format", "raw",
                    "--output", str(raw)], check=True, capture_output=True)
    out, _ = load.communicate()
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    print(f"{args.page}: {path}, gunicorn -w 1, wrk -t1 -c4: "
          f"{rate.group(1) if rate else '?'} requests/s while sampled")
    kept = Path(tempfile.gettempdir()) / f"worker-profile-{args.page}.txt"
    shutil.copy(raw, kept)
    return kept


def _report(args: argparse.Namespace, raw: Path) -> None:
    """Each frame's share of the samples, callees included (py-spy's raw format: one
    stack per line, frames separated by ';', then the sample count)."""
    total, inside = 0, Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        frames = {re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")}
        for frame in frames:
            inside[frame] += int(count)
    print(f"{total:,} samples, kept in {raw}; share of them inside each frame (those in "
          "every sample, gunicorn's start-up and loop, left out):")
    shown = [(frame, count) for frame, count in inside.most_common() if count < total]
    for frame, count in shown[:args.top]:
        print(f"{100 * count / total:6.1f}%  {frame}")


if __name__ == "__main__":
    sys.exit(main())
