"""Demo data: it makes what it says, graded by the real graders, and never floods by accident."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from course import demo
from course.db import get_session
from course.grading import registry
from course.models import Attempt, StepProgress, User
from course.models.attempt import AttemptStatus
from course.services import certificates
from course.site import get_course


@pytest.fixture
def filled(app):
    with app.app_context():
        session = get_session()
        summary = demo.fill(session, get_course(), learners=12, attempts=150, seed=3)
        yield session, get_course(), summary


def test_fill_makes_the_learners_and_attempts_it_reports(filled):
    session, _, summary = filled
    users = session.scalars(select(User).order_by(User.id)).all()
    assert len(users) == summary.learners == 12
    assert [u.email for u in users] == [f"learner{n}@demo.example" for n in range(1, 13)]
    assert all(u.role == "learner" and u.check_password("demo-password") for u in users[:1])
    names = [u.display_name for u in users]
    assert "Zoë Ångström" in names and any(n.startswith("=") for n in names)
    assert session.scalar(select(func.count()).select_from(Attempt)) == summary.attempts == 150
    statuses = {status: n for status, n in session.execute(
        select(Attempt.status, func.count()).group_by(Attempt.status))}
    assert statuses.get(AttemptStatus.AWAITING_REVIEW, 0) == summary.awaiting_review > 0
    assert statuses.get(AttemptStatus.REVIEWED, 0) == summary.reviewed > 0
    assert session.scalar(select(func.count()).select_from(StepProgress)) \
        == summary.completed_steps > 0


def test_attempts_are_scored_by_the_real_graders_and_respect_the_policy(filled):
    session, course, _ = filled
    attempts = session.scalars(select(Attempt)).all()
    scores = set()
    for a in attempts:
        exercise = course.exercise(a.exercise_id)
        assert a.exercise_version == exercise.version
        if exercise.policy.max_attempts is not None:
            assert a.number <= exercise.policy.max_attempts
        if a.status == AttemptStatus.AUTO_GRADED:
            result = registry.grade(exercise, a.answer)
            assert a.score == pytest.approx(result.score) == a.auto_score
            assert a.feedback == result.feedback_json()
            scores.add(round(a.score, 2))
        elif a.status == AttemptStatus.AWAITING_REVIEW:
            assert a.score is None and registry.validate(exercise, a.answer) == []
        else:
            assert a.rubric["score"] == a.score
        assert a.passed == (a.score is not None and a.score >= exercise.policy.pass_mark)
    # Right, partly right and wrong answers, not all the model answer.
    assert 1.0 in scores and len(scores) > 5 and min(scores) < 0.8


def test_the_first_learner_has_finished_the_course_and_earns_a_certificate(filled):
    """Every step done, every exercise passed, written work reviewed and released, nothing
    awaiting review: so a certificate can be tried on demo data."""
    session, course, summary = filled
    assert summary.finished_email == "learner1@demo.example"
    finisher = session.scalar(select(User).where(User.email == summary.finished_email))
    done = set(session.scalars(select(StepProgress.step_id)
                               .where(StepProgress.user_id == finisher.id)))
    assert done == {step.id for step in course.steps}
    attempts = session.scalars(select(Attempt).where(Attempt.user_id == finisher.id)).all()
    assert {a.exercise_id for a in attempts if a.passed} == {e.id for e in course.exercises}
    assert all(a.status != AttemptStatus.AWAITING_REVIEW and a.draft is None for a in attempts)
    reviewed = [a for a in attempts if a.status == AttemptStatus.REVIEWED]
    assert reviewed and all(a.released_at is not None for a in reviewed)
    assert certificates.earned(session, course, finisher.id) is not None


def test_too_few_attempts_for_every_exercise_make_no_finisher(app):
    with app.app_context():
        course = get_course()
        summary = demo.fill(get_session(), course, learners=2,
                            attempts=len(course.exercises) - 1)
    assert summary.finished_email is None


def test_the_same_seed_gives_the_same_learners_and_answers(app):
    with app.app_context():
        session, course = get_session(), get_course()
        for _ in range(2):
            demo.fill(session, course, learners=4, attempts=30, seed=7)
        users = session.scalars(select(User).order_by(User.id)).all()

        def made(batch: list[User]) -> list[tuple]:
            return [(u.display_name, a.exercise_id, a.number, a.answer) for u in batch
                    for a in session.scalars(select(Attempt).where(Attempt.user_id == u.id)
                                             .order_by(Attempt.created_at, Attempt.id))]

        assert made(users[:4]) == made(users[4:])


def test_cli_refuses_to_run_twice_without_force(app, runner):
    made = runner.invoke(args=["demo-data", "--learners", "3", "--attempts", "20"])
    assert made.exit_code == 0, made.output
    assert "Made 3 demo learners (learner1@demo.example to learner3@demo.example)" \
        in made.output
    assert "password: " in made.output
    assert "learner1@demo.example has finished the course" in made.output

    again = runner.invoke(args=["demo-data", "--learners", "3"])
    assert again.exit_code != 0
    assert "--force" in again.output
    with app.app_context():
        assert demo.demo_learner_count(get_session()) == 3

    forced = runner.invoke(args=["demo-data", "--learners", "2", "--attempts", "5", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "learner4@demo.example to learner5@demo.example" in forced.output
    with app.app_context():
        assert demo.demo_learner_count(get_session()) == 5
