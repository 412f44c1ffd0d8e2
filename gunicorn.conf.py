"""gunicorn settings for the README's production command (gunicorn reads this file itself
when started from the repository root; `--config gunicorn.conf.py` makes it explicit).

`preload_app` builds the app once in the master: start-up migrations run exactly once and
a broken course file stops the server before any worker starts. The app leaves no database
connection or open SQLite file behind for the forked workers (see course/db.py).
"""

import os

preload_app = True
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# A worker stuck longer than this on one request is restarted.
timeout = 30
graceful_timeout = 20
# X-Forwarded-* headers are trusted by the app only when TRUSTED_PROXIES says how many
# proxies set them (course/deployment.py); gunicorn must not act on them by itself.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""


def when_ready(server: object) -> None:
    """Before the first fork: move everything the preloaded app built (modules, the course,
    zxcvbn's dictionaries) out of the garbage collector's sight, so its passes in the
    workers do not write to those objects and copy the master's pages into each worker
    (lower PSS per worker; see docs/DEPLOYMENT.md, "Memory per worker")."""
    import gc

    gc.collect()
    gc.freeze()
