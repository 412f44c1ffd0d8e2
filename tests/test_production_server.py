"""Defect 1 of issue 7: the README's production command (gunicorn --preload, 4 workers)
must not share one database connection or open SQLite file between processes."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.servers import production_server

pytestmark = pytest.mark.slow

BURST = 300


def test_the_server_names_no_version(tmp_path, database_url):
    with production_server(tmp_path, database_url, WEB_CONCURRENCY="1") as server, \
            _open(server.base_url + "/health") as response:
        assert response.status == 200
        server_header = response.headers.get("Server", "")
        assert not any(ch.isdigit() for ch in server_header), server_header


def _open(url: str):
    deadline = time.monotonic() + 30
    while True:
        try:
            return urllib.request.urlopen(url, timeout=10)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def _open_files(pid: int) -> list[str]:
    fds = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return targets


def test_burst_right_after_start_gets_no_5xx_and_no_shared_connection(tmp_path,
                                                                       database_url):
    with production_server(tmp_path, database_url, WEB_CONCURRENCY="4") as server:
        paths = ["/health", "/", "/signin", "/lessons/product-vision"]
        urls = [server.base_url + paths[i % len(paths)] for i in range(BURST)]
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(_status, urls))
            failures = [s for s in statuses if s >= 500]
            assert not failures, f"{len(failures)} 5xx answers:\n{server.log_text()[-4000:]}"
            assert set(statuses) == {200}, sorted(set(statuses))

            workers = server.worker_pids()
            assert len(workers) == 4
            # Only /health is sure to read the database (the home and lessons are served
            # from each worker's copy), and the kernel picks the worker that takes a
            # request: one can miss every /health of the burst. Ask until each has read it.
            deadline = time.monotonic() + 30
            while (missing := _without_database(workers, database_url)) \
                    and time.monotonic() < deadline:
                list(pool.map(_status, [server.base_url + "/health"] * 32))
        assert not missing, f"workers {missing} have not opened the database themselves"

        master_files = _open_files(server.process.pid)
        if database_url.startswith("sqlite"):
            inherited = [f for f in master_files if f.startswith(_sqlite_file(database_url))]
            assert not inherited, f"the master keeps {inherited} open for its workers"
        else:
            by_process = _connections(database_url)
            assert server.process.pid not in by_process, "the master kept a connection"
            backends = [b for pid in workers for b in by_process[pid]]
            assert len(backends) == len(set(backends))


def _sqlite_file(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def _connections(database_url: str) -> dict[int, list[int]]:
    """PostgreSQL backends by the process that opened them (application_name course-PID)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT application_name, pid FROM pg_stat_activity "
                "WHERE datname = current_database() "
                "AND application_name LIKE 'course-%'")).all()
    finally:
        engine.dispose()
    by_process: dict[int, list[int]] = {}
    for name, backend in rows:
        by_process.setdefault(int(name.removeprefix("course-")), []).append(backend)
    return by_process


def _without_database(workers: set[int], database_url: str) -> list[int]:
    """The workers that have no database file open / connection of their own yet."""
    if database_url.startswith("sqlite"):
        db_file = _sqlite_file(database_url)
        return [pid for pid in workers
                if not any(f.startswith(db_file) for f in _open_files(pid))]
    by_process = _connections(database_url)
    return [pid for pid in workers if not by_process.get(pid)]
