"""`/health` for a load balancer: 200 when this worker can reach the database, else 503.

It answers without a session cookie, so probing it never creates sessions.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from course.db import get_engine

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
