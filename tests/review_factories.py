"""Factories for the review tests: real submissions through the attempts service, and
fast bulk attempts for paging and query-count tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from flask import Flask
from sqlalchemy import func, select

from course.config import REPO_ROOT
from course.db import get_session
from course.grading import registry
from course.models import Attempt
from course.models.attempt import AttemptStatus
from course.services import progress
from course.services import release as release_service
from course.services import review as review_service
from course.services.aggregates.rebuild import rebuild as rebuild_aggregates
from course.services.attempts import submit as submission
from course.site import get_course
from tests.test_exercise_views import correct_answer

VISION = "write-a-product-vision"
SORT = "roadmap-or-backlog"
VISION_ANSWER = {"r-vision": ["Forkcast: every household eats well, **without** the scramble."],
                 "r-strategy": ["- Families first\n- Grocer delivery\n- Planned leftovers"]}


def submit(app: Flask, user_id: int, exercise_id: str, form: dict[str, list[str]]) -> int:
    """Submit `form` as `user_id` through the attempts service; the new attempt's id."""
    with app.app_context():
        exercise = get_course().exercise(exercise_id)
        attempt = submission.submit(get_session(), user_id, exercise, form,
                                    token=uuid4().hex, version=exercise.version)
        return attempt.id


def sort_form(app: Flask, wrong: int = 0, exercise_id: str = SORT) -> dict[str, list[str]]:
    """The model answer of a sort exercise as a form, with the first `wrong` items moved."""
    with app.app_context():
        exercise = get_course().exercise(exercise_id)
        placements = registry.model_answer(exercise)["placements"]
        buckets = [b.id for b in exercise.spec.buckets]
    form = {}
    for n, (item, bucket) in enumerate(placements.items()):
        if n < wrong:
            bucket = next(b for b in buckets if b != bucket)
        form[f"place-{item}"] = [bucket]
    return form


def bulk_attempts(app: Flask, user_id: int, count: int, exercise_id: str = VISION,
                  start: datetime | None = None, status: str = AttemptStatus.AWAITING_REVIEW,
                  same_time: bool = False) -> list[int]:
    """Insert `count` attempts directly (no grading), one second apart unless `same_time`."""
    start = start or datetime(2026, 1, 1, 9, 0, 0)
    with app.app_context():
        session = get_session()
        first = session.scalar(select(func.coalesce(func.max(Attempt.number), 0)).where(
            Attempt.user_id == user_id, Attempt.exercise_id == exercise_id)) + 1
        rows = [Attempt(user_id=user_id, exercise_id=exercise_id, exercise_version="v1",
                        number=first + n, submission_token=uuid4().hex,
                        answer={"responses": {"vision": f"Answer {n}", "strategy": "- a"}},
                        status=str(status), auto_score=None, score=None, feedback={},
                        created_at=start if same_time else start + timedelta(seconds=n))
                for n in range(count)]
        session.add_all(rows)
        session.commit()
        rebuild_aggregates(session, get_course())  # what any bulk load must do
        return [r.id for r in rows]


def finish_every_step(app: Flask, user_id: int) -> list[int]:
    """Mark every lesson done and pass every machine-graded exercise; submit the written
    work, which then awaits review. The ids of the written attempts."""
    written = []
    with app.app_context():
        session, course = get_session(), get_course()
        for step in course.steps:
            if step.kind == "lesson":
                progress.set_complete(session, user_id, step.id, True)
                continue
            form = (registry.kind_of(step).form_from_answer(
                step.spec, registry.model_answer(step)) if step.auto_graded
                else correct_answer(step))
            done = submission.submit(session, user_id, step, form, uuid4().hex,
                                     step.version)
            if not step.auto_graded:
                written.append(done.id)
    return written


def pass_reviews(app: Flask, attempt_ids: list[int], instructor_id: int) -> None:
    """Review each written attempt with full marks and release it."""
    with app.app_context():
        session, course = get_session(), get_course()
        for attempt_id in attempt_ids:
            attempt = session.get(Attempt, attempt_id)
            exercise = course.exercise(attempt.exercise_id)
            levels = {c.id: max(level.points for level in c.levels)
                      for c in registry.kind_of(exercise).rubric(exercise.spec)}
            review_service.save_review(session, attempt_id, instructor_id, attempt.revision,
                                       review_service.ReviewInput(levels, "Well argued."),
                                       course=course)
            release_service.release_reviews(session, instructor_id, course=course,
                                           attempt_id=attempt_id)


def copy_course(tmp_path: Path) -> Path:
    """A copy of the repository's course that a test may edit."""
    target = tmp_path / "course-copy"
    target.mkdir()
    shutil.copy(REPO_ROOT / "course.yaml", target / "course.yaml")
    shutil.copytree(REPO_ROOT / "lessons", target / "lessons")
    shutil.copytree(REPO_ROOT / "exercises", target / "exercises")
    return target


def edit_file(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text()
    changed = change(text)
    assert changed != text, f"the edit changed nothing in {path}"
    path.write_text(changed)
