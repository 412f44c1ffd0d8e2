"""Operator commands: `flask --app course <command>`.

check-content is registered as a Flask plugin command (pyproject entry point) so that it
runs without building the app: the app refuses to start on broken content, and this
command is how an author sees why.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from course.config import content_dir_from_environment
from course.content.errors import ContentError
from course.content.loader import coverage_gaps, load_course
from course.db import create_schema, get_engine, get_session
from course.models import Role
from course.services.accounts import EmailTaken, create_user


def init_app(app: Flask) -> None:
    for command in (init_db, create_user_command):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create any missing database tables."""
    create_schema(get_engine())
    click.echo(f"Database ready: {get_engine().url.render_as_string(hide_password=True)}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", help="Display name (defaults to the part of the email before @).")
@click.option("--instructor", is_flag=True, help="Give the account the instructor role.")
@click.password_option(help="Prompted for (twice) when not given.")
def create_user_command(email: str, name: str | None, instructor: bool, password: str) -> None:
    """Create an account; the only way to make an instructor."""
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    role = Role.INSTRUCTOR if instructor else Role.LEARNER
    try:
        user = create_user(get_session(), email, name or email.split("@")[0], password, role)
    except EmailTaken as exc:
        raise click.ClickException(f"an account with {exc} already exists") from exc
    click.echo(f"Created {role.value} {user.email}.")


@click.command("check-content")
def check_content() -> None:
    """Validate every lesson and exercise file; exit non-zero on any problem."""
    try:
        course = load_course(content_dir_from_environment())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(f"ERROR {problem}", err=True)
        raise SystemExit(1) from exc
    untaught, unchecked = coverage_gaps(course)
    lessons = sum(1 for s in course.steps if s.kind == "lesson")
    click.echo(f"{lessons} lessons and {len(course.exercises)} exercises are valid.")
    for fact in course.facts:
        status = "ok " if fact not in untaught and fact not in unchecked else "GAP"
        click.echo(f"  {status} {fact.id}")
    for fact in untaught:
        click.echo(f"ERROR fact '{fact.id}' is taught by no lesson", err=True)
    for fact in unchecked:
        click.echo(f"ERROR fact '{fact.id}' is checked by no graded exercise", err=True)
    if untaught or unchecked:
        raise SystemExit(1)
    click.echo(f"Every one of the {len(course.facts)} facts is taught and checked.")
