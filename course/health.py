"""`/health` for a load balancer: 200 when this worker can reach the database, else 503.

It also says where the rate limits count (`rate_limit_counts`): "shared" in Redis, or
"per worker" in memory. Without REDIS_URL that is the configuration (one process, as on
a laptop); with REDIS_URL set but Redis unreachable the status is "degraded": the site
serves (still 200, so the balancer keeps it), but each worker counts on its own, so N
workers allow N times each limit (course/limits.py).

It answers without a session cookie, so probing it never creates sessions.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from course.db import get_engine
from course.limits import counts_shared_as_configured

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503
    if not counts_shared_as_configured(current_app):
        return jsonify(status="degraded", database="ok", rate_limit_counts="per worker",
                       rate_limit_storage="unreachable")
    shared = not current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory")
    return jsonify(status="ok", database="ok",
                   rate_limit_counts="shared" if shared else "per worker")
