"""The course platform. `create_app` is the only thing defined here."""

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
        request_checks,
        site,
        site_header,
    )
    from course.services.aggregates.rebuild import fill_if_missing

    links.init_app(app)  # first: a production server without PUBLIC_URL never starts
    site.init_app(app)  # then: broken content stops start-up before anything is opened
    caches.init_app(app)
    db.init_app(app)
    if app.config.get("CREATE_SCHEMA", True):
        db.create_schema(db.get_engine(app))
        with app.app_context():
            fill_if_missing(db.get_session(), site.get_course())
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
