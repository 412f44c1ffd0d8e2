"""The declarative base every table is declared on.

Kept apart from course.db, the Flask glue that opens engines and sessions, so that the
models stay plain SQLAlchemy: importing a model never imports Flask.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for every model."""
