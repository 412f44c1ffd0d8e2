"""The declarative base every table is declared on.

Kept apart from course.db, the Flask glue that opens engines and sessions, so that the
models stay plain SQLAlchemy: importing a model never imports Flask.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for every model.

    `float` columns are DOUBLE PRECISION, as the migrations create them, on every
    SQLAlchemy version pyproject allows: 2.0 maps a bare `Mapped[float]` to FLOAT and 2.1
    to DOUBLE, and the models must match the migrations on both.
    """

    type_annotation_map: dict[Any, Any] = {float: Double}
