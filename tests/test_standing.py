"""One definition of a learner's standing (issue 21, part 1): the learner's pages, the
instructor's learner page, the gradebook and the certificate say the same thing, and
every copy of it (step_progress, the aggregates, certificates) is written by the change
that causes it."""

from __future__ import annotations

import dataclasses
import re
from uuid import uuid4

from flask import Flask
from sqlalchemy import func, select

from course.db import get_session
from course.grading import registry
from course.models import Certificate, Role, StepProgress, User
from course.services import drift, regrade
from course.services.attempts import submit as submission
from course.services.reports import gradebook as gradebook_report
from course.site import get_course
from tests.helpers import make_user
from tests.review_factories import SORT, finish_every_step, pass_reviews, sort_form
from tests.test_exercise_views import text_of


def words(response) -> str:
    """A page's text without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(response)).split())


def _score(app: Flask, form: dict[str, list[str]]) -> float:
    with app.app_context():
        exercise = get_course().exercise(SORT)
        score: float = registry.grade(exercise, registry.kind_of(exercise).answer_from_form(
            exercise.spec, form)).score
        return score


def _certificates(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count(Certificate.id))) or 0


def test_work_awaiting_review_means_almost_there_then_a_certificate_with_its_figures(
        client, auth, app):
    learner = auth.learner()
    instructor = make_user(app, "i@example.com", "Ivy Instructor", Role.INSTRUCTOR).id
    written = finish_every_step(app, learner.id)
    assert len(written) == 2
    for page in ("/complete", "/progress"):
        body = text_of(client.get(page))
        assert "almost there: 2 assignments awaiting review" in body.lower(), page
    assert "/certificates/" not in client.get("/complete").get_data(as_text=True)
    assert _certificates(app) == 0

    pass_reviews(app, written, instructor)
    completion = client.get("/complete").get_data(as_text=True)
    found = re.search(r'href="(/certificates/[0-9a-f]+)"', completion)
    assert found, text_of(client.get("/complete"))
    steps = len(get_course_steps(app))
    body = text_of(client.get(found.group(1)))
    assert f"passing {steps} of its {steps} steps" in body
    assert "with a score of 100%" in body


def get_course_steps(app: Flask) -> tuple:
    with app.app_context():
        return get_course().steps


def test_my_progress_and_the_instructors_learner_page_agree_on_steps_done(
        client, auth, app):
    learner = auth.learner()
    make_user(app, "i@example.com", "Ivy Instructor", Role.INSTRUCTOR)
    finish_every_step(app, learner.id)
    steps = len(get_course_steps(app))
    mine = words(client.get("/progress"))
    assert f"{steps - 2} of {steps} steps" in mine
    auth.sign_out()
    auth.sign_in("i@example.com")
    theirs = words(client.get(f"/instructor/learners/{learner.id}"))
    assert f"Steps done {steps - 2} of {steps}" in theirs


def test_a_lower_pass_mark_and_a_regrade_complete_the_step_everywhere(client, auth, app):
    learner = auth.learner()
    # The first answer with some items wrong that no longer passes at 0.8.
    form = next(f for f in (sort_form(app, wrong=n) for n in range(1, 5))
                if _score(app, f) < 0.8)
    with app.app_context():
        session, course = get_session(), get_course()
        exercise = course.exercise(SORT)
        done = submission.submit(session, learner.id, exercise, form, uuid4().hex,
                                 exercise.version)
        assert not done.passed and done.score >= 0.5
        kinder = dataclasses.replace(exercise, policy=dataclasses.replace(
            exercise.policy, pass_mark=0.5))
        regrade.regrade_exercise(session, kinder, None)
        session.expire_all()
        assert session.scalar(select(StepProgress.id).where(
            StepProgress.user_id == learner.id, StepProgress.step_id == SORT)) is not None
        assert session.get(User, learner.id).steps_done == 1
        [row] = gradebook_report.gradebook(session, course).rows
        assert row.completion == 1 / len(course.steps)
    assert f"1 of {len(get_course_steps(app))} steps" in words(client.get("/progress"))


def test_a_certificate_a_later_regrade_no_longer_supports_is_kept_and_flagged(
        client, auth, app):
    """The decision (course.services.certificates): a certificate certifies what was true
    when issued, so a regrade that fails the holder keeps it as issued, and the
    instructor's page for the learner says it is no longer earned."""
    learner = auth.learner()
    instructor = make_user(app, "i@example.com", "Ivy Instructor", Role.INSTRUCTOR).id
    pass_reviews(app, finish_every_step(app, learner.id), instructor)
    found = re.search(r'href="(/certificates/[0-9a-f]+)"',
                      client.get("/complete").get_data(as_text=True))
    assert found
    steps = len(get_course_steps(app))
    with app.app_context():
        session, course = get_session(), get_course()
        exercise = course.exercise(SORT)
        first = exercise.spec.items[0]
        other = next(b.id for b in exercise.spec.buckets if b.id != first.bucket)
        stricter = dataclasses.replace(
            exercise, policy=dataclasses.replace(exercise.policy, pass_mark=1.0),
            spec=exercise.spec.model_copy(update={"items": (
                first.model_copy(update={"bucket": other}), *exercise.spec.items[1:])}))
        regrade.regrade_exercise(session, stricter, instructor)
        # The check, against the course as edited: no drift, the kept certificate noted.
        edited = dataclasses.replace(course, steps=tuple(
            stricter if s.id == SORT else s for s in course.steps))
        assert drift.differences(session, edited) == []
        [note] = drift.kept_certificates(session, edited)
        assert "no longer meets the course's rule" in note
    assert f"passing {steps} of its {steps} steps" in text_of(client.get(found.group(1)))
    assert found.group(1) in client.get("/complete").get_data(as_text=True)
    assert f"{steps - 1} of {steps} steps" in words(client.get("/progress"))
    auth.sign_out()
    auth.sign_in("i@example.com")
    page = words(client.get(f"/instructor/learners/{learner.id}"))
    assert "no longer meets the course's rule" in page
    assert f"Steps done {steps - 1} of {steps}" in page
