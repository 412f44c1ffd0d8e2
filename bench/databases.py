"""The benchmarks' database: a new SQLite file, or an existing database wiped and migrated."""

from __future__ import annotations

from pathlib import Path

from course.config import normalise_database_url
from course.db import make_engine, reset_schema


def empty_database(url: str | None, workdir: Path, name: str) -> str:
    """The URL of an empty, migrated database (a `--database-url` one loses its tables)."""
    if url is None:
        return f"sqlite:///{workdir / f'{name}.db'}"
    url = normalise_database_url(url)
    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()
    return url
