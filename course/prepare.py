"""The database made ready for the app: migrated to the newest revision, and the report
aggregates filled when a migration left them empty.

A server does this as it starts (create_app); a command does it only if it uses the
database (course.cli.with_database), so `--help` touches no database. A module of its
own because both create_app and the commands call it, and course.cli may not import the
package that registers its commands.
"""

from __future__ import annotations

from flask import Flask

from course import db, site
from course.services.aggregates.rebuild import fill_if_missing


def prepare_database(app: Flask) -> None:
    """Bring the database up to the newest migration and fill the report aggregates if a
    migration left them empty (both cheap when there is nothing to do)."""
    if not app.config.get("CREATE_SCHEMA", True):
        return
    db.create_schema(db.get_engine(app))
    with app.app_context():
        fill_if_missing(db.get_session(), site.get_course)
