"""Alembic environment: migrates the database the app is configured for.

The app runs migrations itself at start-up (course.db.create_schema) and hands over its
connection; the `alembic` command line (alembic.ini at the repository root) uses
DATABASE_URL, or the default SQLite database in the instance folder.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from course.config import REPO_ROOT, normalise_database_url
from course.db import make_engine

# The package, not just the base: importing it registers every table on Base.metadata.
from course.models import Base

config = context.config


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite can only alter a table by copying it; batch mode does that.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'instance' / 'course.db'}"
    engine = make_engine(normalise_database_url(url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
