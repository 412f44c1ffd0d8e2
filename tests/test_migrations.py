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


def test_histogram_migration_fills_the_bands_a_rebuild_would(app):
    """A database upgraded with learners already scored shows their distribution at once,
    and the gradebook's sort keys kept on each account."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select

    import course.db
    from course import demo
    from course.db import get_session
    from course.models import ExerciseTotals, User
    from course.services.aggregates.rebuild import rebuild as rebuild_aggregates
    from course.services.aggregates.rows import BANDS
    from course.site import get_course

    config = Config()
    config.set_main_option("script_location",
                           str(Path(course.db.__file__).parent / "migrations"))
    columns = [ExerciseTotals.exercise_id, *(getattr(ExerciseTotals, b)
                                             for b in BANDS)]
    with app.app_context():
        session = get_session()
        demo.fill(session, get_course(), learners=20, attempts=200)
        session.close()
        for target in ("5e1f0a55e55d", "head"):
            with get_engine(app).begin() as connection:
                config.attributes["connection"] = connection
                (command.downgrade if target != "head" else command.upgrade)(config, target)
        keys = [User.id, User.score_sum, User.awaiting, User.steps_done]
        migrated = [tuple(r) for r in session.execute(select(*columns).order_by(columns[0]))]
        migrated_keys = [tuple(r) for r in session.execute(select(*keys).order_by(User.id))]
        rebuild_aggregates(session, get_course())
        rebuilt = [tuple(r) for r in session.execute(select(*columns).order_by(columns[0]))]
        rebuilt_keys = [tuple(r) for r in session.execute(select(*keys).order_by(User.id))]
    assert migrated == rebuilt and sum(sum(r[1:]) for r in rebuilt) > 0
    assert migrated_keys == rebuilt_keys and sum(r[3] for r in rebuilt_keys) > 0


def test_start_up_knows_the_newest_migration_without_alembic(app) -> None:
    """create_schema skips importing Alembic for a current database (worker memory): the
    head it reads from the migration files must be Alembic's own."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from course import db

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS.parent))
    assert db._head_revision() == ScriptDirectory.from_config(config).get_current_head()
    assert db._current_revision(get_engine(app)) == db._head_revision()
