"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from course.db import Base, create_schema, get_engine


def test_migrations_match_the_models(app):
    """A model change without a migration would pass tests on create_all but break users."""
    with get_engine(app).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(app):
    create_schema(get_engine(app))
    with get_engine(app).connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
