"""Factories and actions the tests share (like flaskr's AuthActions, CTFd's gen_*)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event

from course.config import REPO_ROOT
from course.content.loader import load_course
from course.content.schema import Course
from course.db import get_engine, get_session
from course.models import Role, User
from course.services.accounts import create_user

PASSWORD = "correct horse battery"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T = TypeVar("T")
_loaded_courses: dict[tuple[str, str], Course] = {}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def missing(reason: str) -> NoReturn:
    """Skip a test whose browser, checker or service is missing, saying which; on CI fail
    instead: a run that skipped them would go green without having tested them."""
    if ON_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def course_at(content_dir: str | Path = REPO_ROOT) -> Course:
    """The course in `content_dir` (the repository's by default), parsed once per process.

    Keyed by the folder and a hash of every file's bytes, so a test that edits content gets
    a fresh load (and its problems), and the frozen Course is safe to share.
    """
    root = Path(content_dir).resolve()
    digest = hashlib.sha256()
    files = [root / "course.yaml", *root.glob("lessons/*.md"), *root.glob("exercises/*")]
    for path in sorted(p for p in files if p.is_file()):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    key = (str(root), digest.hexdigest())
    if key not in _loaded_courses:
        _loaded_courses[key] = load_course(content_dir)
    return _loaded_courses[key]


def count_queries(app: Flask) -> AbstractContextManager[list[str]]:
    """The SQL statements the test's thread runs on the app's engine inside the block."""
    return each_statement(app, lambda _connection, statement: statement)


@contextmanager
def each_statement(app: Flask, take: Callable[[Connection, str], T]) -> Iterator[list[T]]:
    """What `take` makes of each statement (and the connection it runs on) that the
    test's thread (the request's, with the test client) runs on the app's engine inside
    the block; not those of another thread, such as the mail sender a release starts."""
    taken: list[T] = []
    here = threading.get_ident()

    def record(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == here:
            taken.append(take(connection, statement))

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield taken
    finally:
        event.remove(engine, "before_cursor_execute", record)


def csrf_token(client: FlaskClient, url: str = "/signin") -> str:
    """The CSRF token a real browser would find on `url`."""
    html = client.get(url).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no csrf_token on {url}"
    return match.group(1) or match.group(2)


def make_user(app: Flask, email: str = "learner@example.com", name: str = "Lee Learner",
              role: Role = Role.LEARNER, password: str = PASSWORD) -> User:
    with app.app_context():
        return create_user(get_session(), email, name, password, role)


class AuthActions:
    def __init__(self, client: FlaskClient, app: Flask):
        self.client = client
        self.app = app

    def sign_up(self, email: str = "new@example.com", name: str = "New Learner",
                password: str = PASSWORD, confirm: str | None = None, next: str = ""):
        return self.client.post("/signup", data={
            "csrf_token": csrf_token(self.client, "/signup"), "email": email,
            "display_name": name, "password": password,
            "confirm": password if confirm is None else confirm, "next": next})

    def sign_in(self, email: str = "learner@example.com", password: str = PASSWORD,
                next: str = ""):
        return self.client.post("/signin", data={
            "csrf_token": csrf_token(self.client, "/signin"), "email": email,
            "password": password, "next": next})

    def sign_out(self):
        return self.client.post("/signout", data={"csrf_token": csrf_token(self.client, "/")})

    def learner(self, email: str = "learner@example.com", name: str = "Lee Learner") -> User:
        """Create a learner and sign in as them."""
        user = make_user(self.app, email, name)
        self.sign_in(email)
        return user

    def instructor(self, email: str = "teacher@example.com") -> User:
        user = make_user(self.app, email, "Ines Instructor", Role.INSTRUCTOR)
        self.sign_in(email)
        return user
