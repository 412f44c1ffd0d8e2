"""Operator commands (create-user, init-db, check-content), start-up checks and settings."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import cli as flask_cli
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

import course.db
import course.dev_server
from course.cli import check_content
from course.config import REPO_ROOT, from_environment, normalise_database_url
from course.content.errors import ContentError
from course.db import get_engine, get_session, make_engine
from course.models import Role, User
from tests.helpers import PASSWORD, make_user
from tests.review_factories import copy_course

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"
PROMPTED = f"{PASSWORD}\n{PASSWORD}\n"


def find_user(app: Flask, email: str) -> User | None:
    with app.app_context():
        return get_session().scalar(select(User).where(User.email == email))


def broken_course(tmp_path: Path) -> Path:
    """A copy of the fixture course with a lesson in a section that does not exist."""
    target = tmp_path / "broken-course"
    shutil.copytree(FIXTURE_COURSE, target)
    lesson = target / "lessons" / "02-fixture-next-steps.md"
    lesson.write_text(lesson.read_text().replace("section: advanced", "section: nowhere"))
    return target


# --- create-user -----------------------------------------------------------------------


def test_create_user_instructor(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "--instructor", "Teacher@Example.com"],
                           input=PROMPTED)
    assert result.exit_code == 0, result.output
    assert "Created instructor teacher@example.com." in result.output
    user = find_user(app, "teacher@example.com")
    assert user is not None
    assert user.role == Role.INSTRUCTOR.value
    assert user.is_instructor
    assert user.display_name == "Teacher"
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password_hash


def test_create_user_prompts_for_the_password_twice(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "ann@example.com"], input=PROMPTED)
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") >= 1
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed


def test_create_user_learner_with_name(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "--name", "Ann Example", "ann@example.com"],
                           input=PROMPTED)
    assert result.exit_code == 0, result.output
    assert "Created learner ann@example.com." in result.output
    user = find_user(app, "ann@example.com")
    assert user.role == Role.LEARNER.value
    assert user.display_name == "Ann Example"


def test_created_instructor_can_sign_in(app: Flask, runner: FlaskCliRunner,
                                        auth) -> None:
    runner.invoke(args=["create-user", "--instructor", "teacher@example.com"],
                  input=PROMPTED)
    response = auth.sign_in("teacher@example.com")
    assert response.status_code == 302


@pytest.mark.parametrize("email", ["learner@example.com", "LEARNER@example.com",
                                   " learner@example.com "])
def test_create_user_duplicate_email_fails(app: Flask, runner: FlaskCliRunner,
                                           email: str) -> None:
    make_user(app, "learner@example.com")
    result = runner.invoke(args=["create-user", "--instructor", email], input=PROMPTED)
    assert result.exit_code != 0
    assert "an account with learner@example.com already exists" in result.output
    # The existing learner was not promoted.
    assert find_user(app, "learner@example.com").role == Role.LEARNER.value


def test_create_user_asks_again_after_a_short_password(app: Flask,
                                                       runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "ann@example.com"],
                           input="short\nshort\n" + PROMPTED)
    assert result.exit_code == 0, result.output
    assert "at least 8 characters" in result.output
    assert result.output.count("Repeat for confirmation") == 2
    assert find_user(app, "ann@example.com").check_password(PASSWORD)


def test_create_user_stops_at_the_end_of_input_after_a_refused_password(
        app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "ann@example.com"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert find_user(app, "ann@example.com") is None


def test_create_user_mismatched_confirmation_fails(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "ann@example.com"],
                           input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0
    assert find_user(app, "ann@example.com") is None


def _flask(args: list[str], tmp_path: Path, content: Path,
           input: str | None = None) -> tuple[click.testing.Result, Path]:
    """`flask --app course ARGS` as an operator runs it (the app built by Flask's CLI) on
    a new SQLite file; the result and the file."""
    database = tmp_path / "cli.db"
    result = CliRunner().invoke(flask_cli, ["--app", "course", *args], input=input, env={
        "COURSE_CONTENT_DIR": str(content), "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "x" * 32, "MAIL_OUTBOX": str(tmp_path / "outbox")})
    return result, database


def test_help_reads_neither_the_course_nor_the_database(tmp_path: Path) -> None:
    """Broken content would stop a server; `--help` does not read it, nor open (or
    migrate) the database."""
    for content in (REPO_ROOT, broken_course(tmp_path)):
        result, database = _flask(["--help"], tmp_path, content)
        assert result.exit_code == 0, result.output
        assert "create-user" in result.output and "demo-data" in result.output
        assert "Traceback" not in result.output and "nowhere" not in result.output
        assert not database.exists()


def test_create_user_migrates_a_new_database_without_reading_the_course(
        tmp_path: Path) -> None:
    result, database = _flask(["create-user", "ann@example.com"], tmp_path,
                              broken_course(tmp_path), input=PROMPTED)
    assert result.exit_code == 0, result.output
    assert "Created learner ann@example.com." in result.output
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(User.email)) == "ann@example.com"
    finally:
        engine.dispose()


def test_a_command_that_uses_the_course_reads_it(tmp_path: Path) -> None:
    result, _ = _flask(["regrade", "roadmap-or-backlog"], tmp_path, broken_course(tmp_path))
    assert result.exit_code != 0
    assert "section" in str(result.exception) or "nowhere" in result.output


def test_init_db(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    # Running it again is harmless.
    assert runner.invoke(args=["init-db"]).exit_code == 0


# --- check-content ---------------------------------------------------------------------


def test_check_content_on_the_shipped_course(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_CONTENT_DIR", raising=False)
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 0, result.output
    lessons = len(list(Path("lessons").glob("*.md")))
    exercises = len(list(Path("exercises").glob("*.yaml")))
    assert f"{lessons} lessons and {exercises} exercises are valid." in result.output
    assert "Every one of the 13 facts is taught and checked." in result.output
    assert "GAP" not in result.output
    assert "ERROR" not in result.output


def test_check_content_on_a_broken_course(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(broken_course(tmp_path)))
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 1
    assert "ERROR lessons/02-fixture-next-steps.md:4: section: 'nowhere'" in result.output
    assert "Every one of" not in result.output


def test_check_content_reports_every_broken_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    course = broken_course(tmp_path)
    first = course / "lessons" / "01-fixture-welcome.md"
    first.write_text(first.read_text().replace("minutes: 2", "minutes: two"))
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(course))
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 1
    assert "lessons/01-fixture-welcome.md:6: minutes:" in result.output
    assert "lessons/02-fixture-next-steps.md:4: section:" in result.output


def test_check_content_on_a_missing_folder(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(tmp_path / "nothing-here"))
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 1
    assert "course.yaml: missing" in result.output


def test_check_content_reports_coverage_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture course has no exercises, so no fact is checked: valid files, exit 1."""
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(FIXTURE_COURSE))
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 1
    assert "2 lessons and 0 exercises are valid." in result.output
    assert "GAP first-fact" in result.output
    assert "ERROR fact 'first-fact' is checked by no graded exercise" in result.output
    assert "is taught by no lesson" not in result.output


def test_check_content_is_a_flask_plugin_command() -> None:
    from importlib.metadata import entry_points

    commands = entry_points(group="flask.commands")
    assert any(ep.name == "check-content" and ep.value == "course.cli:check_content"
               for ep in commands)


def test_app_refuses_to_start_on_broken_content(make_app, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The half-built app never reaches make_app's clean-up, so close its engine here
    # (an open PostgreSQL connection would otherwise be garbage-collected with a warning).
    engines = []

    def tracked_engine(url: str):
        engines.append(make_engine(url))
        return engines[-1]

    monkeypatch.setattr(course.db, "make_engine", tracked_engine)
    try:
        with pytest.raises(ContentError) as excinfo:
            make_app(COURSE_CONTENT_DIR=str(broken_course(tmp_path)))
    finally:
        for engine in engines:
            engine.dispose()
    assert "lessons/02-fixture-next-steps.md:4: section:" in str(excinfo.value)
    assert excinfo.value.problems[0].path == "lessons/02-fixture-next-steps.md"


# --- settings --------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "COURSE_CONTENT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("clean_environment")
def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = from_environment(instance)["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first
    assert len(first) >= 32
    assert from_environment(instance)["SECRET_KEY"] == first


@pytest.mark.usefixtures("clean_environment")
def test_secret_key_is_never_a_constant(tmp_path: Path) -> None:
    one = from_environment(tmp_path / "one")["SECRET_KEY"]
    two = from_environment(tmp_path / "two")["SECRET_KEY"]
    assert one != two


@pytest.mark.usefixtures("clean_environment")
def test_secret_key_from_the_environment_wins(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert from_environment(tmp_path)["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.usefixtures("clean_environment")
def test_default_settings(tmp_path: Path) -> None:
    config = from_environment(tmp_path)
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'course.db'}"
    assert config["COURSE_CONTENT_DIR"] == str(REPO_ROOT)
    assert config["MAX_CONTENT_LENGTH"] == 256 * 1024
    assert config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.usefixtures("clean_environment")
def test_settings_from_the_environment(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/course")
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(FIXTURE_COURSE))
    config = from_environment(tmp_path)
    assert config["DATABASE_URL"] == "postgresql+psycopg://u:p@db/course"
    assert config["COURSE_CONTENT_DIR"] == str(FIXTURE_COURSE)


@pytest.mark.parametrize("url,expected", [
    ("postgres://h/db", "postgresql+psycopg://h/db"),
    ("postgresql://h/db", "postgresql+psycopg://h/db"),
    ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_normalise_database_url(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


@pytest.mark.parametrize("email", ["teacher", "teacher@", "@example.com", "a b@example.com"])
def test_create_user_refuses_an_address_that_is_not_an_email(app: Flask, runner: FlaskCliRunner,
                                                              email: str) -> None:
    result = runner.invoke(args=["create-user", "--instructor", email], input=PROMPTED)
    assert result.exit_code == 2
    assert "is not an email address" in result.output
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_a_guessable_password_and_asks_again(
        app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "ann@example.com"],
                           input="password123\npassword123\n" + PROMPTED)
    assert result.exit_code == 0, result.output
    assert "common" in result.output
    assert "A few unrelated words" in result.output
    assert find_user(app, "ann@example.com").check_password(PASSWORD)


def test_create_user_refuses_a_password_made_from_the_email(app: Flask,
                                                            runner: FlaskCliRunner) -> None:
    """The README's example of a refused password."""
    made = "teacher-example-2026"
    result = runner.invoke(args=["create-user", "--instructor", "teacher@example.com"],
                           input=f"{made}\n{made}\n" + PROMPTED)
    assert result.exit_code == 0, result.output
    assert "made from your own email address or name" in result.output
    assert find_user(app, "teacher@example.com").check_password(PASSWORD)


def test_create_user_from_stdin_fails_on_a_refused_password(app: Flask,
                                                            runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "--password-stdin", "teacher@example.com"],
                           input="teacher-example-2026\n")
    assert result.exit_code == 2
    assert "made from your own email address or name" in result.output
    assert find_user(app, "teacher@example.com") is None


def test_create_user_reads_the_password_from_stdin_for_scripts(app: Flask,
                                                                runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "--instructor", "--password-stdin",
                                 "teacher@example.com"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert find_user(app, "teacher@example.com").check_password(PASSWORD)


# --- dev ------------------------------------------------------------------------------


def _dev_server(content: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """What `flask dev` hands to werkzeug's server in the reloader's child process."""
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(content))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.setenv("SECRET_KEY", "test-secret-not-for-production")
    monkeypatch.setattr(course.dev_server, "is_running_from_reloader", lambda: True)
    started: dict = {}
    monkeypatch.setattr(course.dev_server, "run_simple",
                        lambda host, port, application, **options: started.update(
                            host=host, port=port, app=application, **options))
    result = CliRunner().invoke(course.dev_server.dev_server, ["--port", "5123"])
    assert result.exit_code == 0, result.output
    return started


def test_dev_server_restarts_on_every_course_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`flask run --debug` watches only Python files; `dev` adds every file the loader
    reads, so an author's saved lesson shows after the automatic restart."""
    content = copy_course(tmp_path)
    started = _dev_server(content, monkeypatch, tmp_path)
    assert (started["host"], started["port"]) == ("127.0.0.1", 5123)
    assert started["use_reloader"] and started["use_debugger"]
    assert isinstance(started["app"], Flask) and started["app"].debug
    get_engine(started["app"]).dispose()
    watched = set(started["extra_files"])
    assert str(content / "course.yaml") in watched
    assert str(content / "lessons" / "02-product-vision.md") in watched
    assert str(content / "exercises" / "roadmap-or-backlog.yaml") in watched
    assert len(watched) == 1 + len(list(content.glob("lessons/*.md"))) + len(
        list(content.glob("exercises/*.yaml")))


def test_dev_server_on_broken_content_shows_the_problems_and_keeps_watching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = copy_course(tmp_path)
    lesson = content / "lessons" / "02-product-vision.md"
    lesson.write_text(lesson.read_text().replace("\nminutes:", "\nminute:", 1))
    started = _dev_server(content, monkeypatch, tmp_path)
    assert str(lesson) in started["extra_files"]
    statuses = []
    body = b"".join(started["app"]({}, lambda status, headers: statuses.append(status)))
    assert statuses == ["503 Service Unavailable"]
    assert b"lessons/02-product-vision.md:" in body and b"minute: unknown field" in body
