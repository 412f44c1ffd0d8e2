"""Run the README's production command for real: gunicorn on a free local port.

Tests that need real worker processes (fork safety, two app servers on one database) start
the exact command the README gives, with only its bind address swapped for a free port.
Every wait is bounded, and the server is stopped (SIGTERM, then SIGKILL) when the test ends.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course.config import REPO_ROOT

HOST = "127.0.0.1"


def readme_production_command() -> list[str]:
    """The README's gunicorn command line, as argv (the first line that runs gunicorn)."""
    for line in (REPO_ROOT / "README.md").read_text().splitlines():
        if line.startswith(".venv/bin/gunicorn "):
            argv = shlex.split(line)
            argv[0] = str(Path(sys.executable).with_name("gunicorn"))
            return argv
    raise AssertionError("README.md has no line starting with `.venv/bin/gunicorn `")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _with_bind(argv: list[str], address: str) -> list[str]:
    out = list(argv)
    for flag in ("--bind", "-b"):
        if flag in out:
            out[out.index(flag) + 1] = address
            return out
    raise AssertionError(f"the production command names no bind address: {argv}")


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log: Path

    def worker_pids(self) -> set[int]:
        """The master's living child processes, read from /proc."""
        children = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, parent = stat.rsplit(")", 1)[1].split()[:2]
            # A killed worker stays a zombie until the master reaps it: not running.
            if int(parent) == self.process.pid and state != "Z":
                children.add(int(entry.name))
        return children

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Return as soon as the server accepts connections (workers may still be booting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n"
                                 f"{log.read_text(errors='replace')}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"gunicorn did not listen within {timeout} s:\n{log.read_text()}")


@contextmanager
def production_server(tmp_path: Path, database_url: str, **env: str) -> Iterator[Server]:
    """Start the README's production command on `database_url` with extra `env`."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DATABASE_URL", "REDIS_URL", "COURSE_ENV", "WEB_CONCURRENCY",
                                "TRUSTED_PROXIES", "RATELIMIT_KEY_PREFIX")}
    environment.update(DATABASE_URL=database_url, SECRET_KEY="test-secret-not-for-production",
                       **env)
    with log.open("w") as out:
        process = subprocess.Popen(_with_bind(readme_production_command(), f"{HOST}:{port}"),
                                   cwd=REPO_ROOT, env=environment, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        yield Server(process, f"http://{HOST}:{port}", log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
