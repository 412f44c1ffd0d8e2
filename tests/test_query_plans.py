"""The queries every signed-in page runs read the learner's rows through their indexes on
SQLite: with no statistics yet (a new database), and the standing's queries also with
misleading ones (gathered when the table looked very different)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.sql import Select

from course.db import make_engine, reset_schema
from course.services import release, sign_ins
from course.services.attempts import reads as attempt_reads

PARAMS = {"user_id": 1, "exercise_id": "an-exercise", "rows": 21, "before": 5, "attempt_id": 7,
          "token_hash": "0" * 64, "since": "2026-01-01 00:00:00", "step_id": "a-lesson",
          "stale_before": "2026-01-01 00:00:00"}

# ANALYZE's figures as if every learner had half the attempts and each exercise one.
MISLEADING = {"ix_attempts_user_exercise": "1000000 500000 500000 1",
              "ix_attempts_learner_scores": "1000000 500000 500000 1 1 1 1 1",
              "ix_attempts_user_queue": "1000000 500000 1 1 1 1 1",
              "ix_attempts_unread": "1000000 500000 500000",
              "ix_attempts_exercise_status": "1000000 1 1",
              "ix_attempts_exercise_created": "1000000 1 1 1 1 1"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    reset_schema(engine)
    yield engine
    engine.dispose()


def _plan(engine: Engine, statement: Select[Any]) -> list[str]:
    compiled = statement.compile(engine)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple({**compiled.params, **PARAMS}[name] for name in compiled.positiontup or ())
        ).all()
    return [row[3] for row in rows]


def _mislead(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'attempts'")
        for index, stat in MISLEADING.items():
            connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('attempts', ?, ?)",
                                       (index, stat))
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics
    engine.dispose()  # new connections read them


LEARNER_SCORES = "USING COVERING INDEX ix_attempts_learner_scores (user_id=? AND exercise_id=?)"
CASES = [
    # The exercise page: the learner's standing, and with it a page of their attempts.
    ("standing", attempt_reads._STANDING, "none", LEARNER_SCORES),
    ("standing", attempt_reads._STANDING, "misleading", LEARNER_SCORES),
    ("recent", attempt_reads._RECENT, "none", LEARNER_SCORES),
    ("recent", attempt_reads._RECENT, "misleading", LEARNER_SCORES),
    # The attempt page: the attempt, with the standing on its exercise.
    ("own-attempt", attempt_reads._OWN_ATTEMPT_WITH_STANDING, "none", LEARNER_SCORES),
    ("own-attempt", attempt_reads._OWN_ATTEMPT_WITH_STANDING, "misleading", LEARNER_SCORES),
    # Every signed-in page: the sign-in and the header's unread feedback. (Told that
    # the partial index holds half of every learner's attempts, SQLite prefers the
    # (user_id, submission_token) index: still one learner's rows.)
    ("sign-in", sign_ins._LIVE_SIGN_IN, "none", "INDEX ix_attempts_unread (user_id=?)"),
]


@pytest.mark.parametrize(("name", "statement", "statistics", "index"), CASES,
                         ids=[f"{name}-{statistics}" for name, _, statistics, _ in CASES])
def test_a_learners_rows_are_read_through_their_index(engine, name, statement, statistics,
                                                      index) -> None:
    if statistics == "misleading":
        _mislead(engine)
    steps = _plan(engine, statement)
    assert any(step.startswith("SEARCH attempts") and index in step for step in steps), steps
    assert not any(step.startswith("SCAN attempts") for step in steps), steps


@pytest.mark.parametrize("statistics", ["none", "misleading"])
def test_the_dashboards_drafts_are_read_from_the_drafts_alone(engine, statistics) -> None:
    """Every draft is read, but through the partial index that holds nothing else."""
    if statistics == "misleading":
        _mislead(engine)
    steps = _plan(engine, release._DRAFTS_BY_EXERCISE)
    assert any("COVERING INDEX ix_attempts_drafts" in step for step in steps), steps
