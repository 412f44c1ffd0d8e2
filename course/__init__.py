"""The course platform: `create_app`, the application factory, and what it runs at a
server's start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from course.config import REPO_ROOT, from_environment


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, database, the course content (loaded once), blueprints."""
    app = Flask(__name__, instance_relative_config=True,
              template_folder=str(REPO_ROOT / "templates"))
    app.config.from_mapping(from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)

    from course import (
        assets,
        auth,
        caches,
        cli,
        db,
        deployment,
        errors,
        extensions,
        health,
        instruct,
        learn,
        limits,
        links,
        logs,
        mail,
        page_cache,
        prepare,
        request_checks,
        site,
        site_header,
    )
    links.init_app(app)  # first: a production server without PUBLIC_URL never starts
    # A server reads the course (next: broken content stops its start-up before anything
    # is opened) and migrates the database as it starts. A command does each only if it
    # uses it (site.get_course, cli.with_database): `--help` needs neither.
    serving = not _for_a_command()
    site.init_app(app, load_course_now=serving)
    caches.init_app(app)
    db.init_app(app)
    if serving:
        prepare.prepare_database(app)
        # `gunicorn --preload` forks workers from this process: leave no connection or
        # open database file behind for them to inherit.
        db.get_engine(app).dispose()
    logs.init_app(app)  # first: its clock starts before any other check
    request_checks.init_app(app)  # before CSRF and rate limits read the form
    extensions.init_app(app)
    site_header.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    mail.init_app(app)
    cli.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(learn.bp)
    app.register_blueprint(instruct.bp)
    limits.init_app(app)
    page_cache.init_app(app)
    deployment.init_app(app)
    return app


#: Commands of Flask's CLI that serve pages, and so read the course at start-up.
SERVING_COMMANDS = frozenset({"run", "dev"})


def _for_a_command() -> bool:
    """Whether Flask's CLI is building the app for a command that does not serve pages.

    Flask builds the app inside its command line's click context: for `--help` and
    the app's own commands in the group's context, for `run` in run's. A server (gunicorn,
    a test) builds it outside any.
    """
    import click

    context = click.get_current_context(silent=True)
    return context is not None and context.info_name not in SERVING_COMMANDS
