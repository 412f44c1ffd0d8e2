"""The maintained report aggregates always equal a rebuild from the attempts.

Hypothesis plays random sequences of submissions, reviews, overrides and regrades through
the real services; after each sequence the aggregates kept by the services are compared
with what `aggregates.rebuild` computes from the attempts alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from course.content.schema import Course, Exercise
from course.db import get_session
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.models import (
    Attempt,
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerExercise,
    Role,
    ScoreChange,
    StepProgress,
    User,
)
from course.models.timestamps import utcnow
from course.services import aggregates, attempts, progress, regrade, release, review
from course.site import get_course
from tests.helpers import make_user
from tests.test_exercise_views import correct_answer

LEARNERS = 3
# Sequences per run; raise it to hunt harder (shrinking is off: a failing sequence is
# printed as drawn, which is quicker to read than to shrink through the database).
EXAMPLES = int(os.environ.get("AGGREGATE_EXAMPLES", "25"))
NOW = utcnow()


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every aggregate row, in a stable order (item counts of zero are no answers)."""
    session.expire_all()

    def rows(model: Any, *order: Any, where: Any = None) -> list[tuple[Any, ...]]:
        query = select(*model.__table__.columns).order_by(*order)
        if where is not None:
            query = query.where(where)
        return [tuple(r) for r in session.execute(query)]

    return {
        "learners": rows(LearnerExercise, LearnerExercise.user_id, LearnerExercise.exercise_id),
        "exercises": rows(ExerciseTotals, ExerciseTotals.exercise_id),
        "items": rows(ItemOutcome, ItemOutcome.exercise_id, ItemOutcome.item_id,
                      ItemOutcome.outcome, where=ItemOutcome.count != 0),
        # A day whose attempts all went with a deleted account keeps a row of zeros.
        "days": rows(DailyActivity, DailyActivity.day, DailyActivity.exercise_id,
                     where=(DailyActivity.attempts != 0) | (DailyActivity.completions != 0)),
        # The gradebook's sort keys, kept on each account, and the number of learners.
        "learner keys": [tuple(r) for r in session.execute(
            select(User.id, User.score_sum, User.awaiting, User.steps_done)
            .order_by(User.id))],
        "learner count": [(aggregates.learner_count(session),)],
    }


def same(kept: Any, rebuilt: Any) -> bool:
    """Equal, allowing the float rounding of a running sum of scores."""
    if isinstance(kept, float) and isinstance(rebuilt, float):
        return math.isclose(kept, rebuilt, abs_tol=1e-9)
    if isinstance(kept, (list, tuple)):
        return len(kept) == len(rebuilt) and all(map(same, kept, rebuilt))
    return kept == rebuilt


class RandomLearner:
    """A DemoLearner whose every choice hypothesis makes, so each kind builds the answer."""

    def __init__(self, data: st.DataObject):
        self.data = data

    def knows(self, item_id: str) -> bool:
        return self.data.draw(st.booleans())

    def mistake(self, item_id: str, wrong: Sequence[str]) -> str:
        return self.data.draw(st.sampled_from(list(wrong)))

    def write(self, topic: str) -> str:
        return f"Some thoughts on {topic}."


def random_form(exercise: Exercise, data: st.DataObject) -> dict[str, list[str]]:
    """The form fields of a valid answer made of random right and wrong choices."""
    kind = registry.kind_of(exercise)
    return kind.form_from_answer(exercise.spec,
                                 kind.demo_answer(exercise.spec, RandomLearner(data)))


def clear(session: Session) -> None:
    for model in (ScoreChange, StepProgress, Attempt, LearnerExercise, ExerciseTotals,
                  ItemOutcome, DailyActivity):
        session.execute(delete(model))
    session.execute(update(User).values(score_sum=0.0, awaiting=0, steps_done=0))
    session.commit()


def play(session: Session, course: Course, learners: list[int], instructor: int,
         data: st.DataObject) -> None:
    exercises = list(course.exercises)
    for _ in range(data.draw(st.integers(1, 14), label="steps")):
        action = data.draw(st.sampled_from(["submit", "submit", "review", "override",
                                            "release", "release all", "regrade",
                                            "lesson"]),
                           label="action")
        if action == "lesson":  # a lesson marked done or not done (completion)
            lesson = data.draw(st.sampled_from([s.id for s in course.steps
                                                if s.kind == "lesson"]))
            progress.set_complete(session, data.draw(st.sampled_from(learners)), lesson,
                                  data.draw(st.booleans(), label="done"))
            continue
        session.expire_all()  # regrade and review update rows behind the identity map
        stored = list(session.scalars(select(Attempt).order_by(Attempt.id)))
        if action == "submit" or not stored:
            exercise = data.draw(st.sampled_from(exercises), label="exercise")
            # Submitted on one of a few days, so first passes land on (and a regrade or
            # review moves them between) different days of the activity chart.
            when = NOW - timedelta(days=data.draw(st.integers(0, 3), label="days ago"))
            with (pytest.MonkeyPatch.context() as clock,
                  contextlib.suppress(attempts.AttemptLimitReached, attempts.AwaitingReview,
                                      InvalidAnswer)):
                clock.setattr(attempts, "utcnow", lambda when=when: when)
                attempts.submit(session, data.draw(st.sampled_from(learners)), exercise,
                                random_form(exercise, data), uuid4().hex, exercise.version)
            continue
        attempt = stored[data.draw(st.integers(0, len(stored) - 1), label="attempt")]
        exercise = course.exercise(attempt.exercise_id)
        if action in ("review", "override"):
            levels = None
            criteria = registry.kind_of(exercise).rubric(exercise.spec)
            if criteria:
                levels = {c.id: data.draw(st.sampled_from([lv.points for lv in c.levels]))
                          for c in criteria}
            override = (data.draw(st.sampled_from([0.0, 0.3, 0.8, 1.0]))
                        if action == "override" else None)
            if levels is None and override is None:
                override = attempt.score  # reviewing machine-graded work keeps its score
            review.save_review(session, attempt.id, instructor, attempt.revision,
                               review.ReviewInput(levels, "Feedback", override, "a reason"),
                               course=course)
        elif action == "release":
            release.release_reviews(session, instructor, course=course, attempt_id=attempt.id)
        elif action == "release all":
            release.release_reviews(session, instructor, course=course,
                                    exercise_id=exercise.id)
        else:
            exercise = data.draw(st.sampled_from([e for e in exercises if e.auto_graded]))
            # A stricter or kinder pass mark changes who passed, as an edited file would.
            changed = dataclasses.replace(exercise, policy=dataclasses.replace(
                exercise.policy, pass_mark=data.draw(st.sampled_from([0.5, 0.8, 1.0]))))
            regrade.regrade_exercise(session, changed, instructor)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_maintained_aggregates_equal_a_rebuild(app):
    learners = [make_user(app, f"l{n}@example.com", f"Learner {n}").id for n in range(LEARNERS)]
    instructor = make_user(app, "i@example.com", "Instructor", Role.INSTRUCTOR).id

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        with app.app_context():
            session, course = get_session(), get_course()
            clear(session)
            play(session, course, learners, instructor, data)
            kept = snapshot(session)
            aggregates.rebuild(session, course)
            rebuilt = snapshot(session)
            for table in kept:
                extra = set(kept[table]) ^ set(rebuilt[table])
                assert same(kept[table], rebuilt[table]), (
                    f"{table}: kept {sorted(set(kept[table]) - set(rebuilt[table]))}, "
                    f"rebuilt {sorted(set(rebuilt[table]) - set(kept[table]))}", extra)

    check()


def test_reports_read_what_the_services_kept(app, client, auth):
    """End to end: a submission through the site shows on the dashboard at once."""
    from tests.test_exercise_views import SORT, exercise, post

    auth.learner()
    post(client, SORT, correct_answer(exercise(app, SORT)))
    with app.app_context():
        totals = get_session().get(ExerciseTotals, SORT)
        assert (totals.attempts, totals.learners, totals.passed, totals.auto_graded) == (
            1, 1, 1, 1)


def test_rebuild_command_counts_attempts_loaded_behind_the_services(app, runner):
    from tests.review_factories import VISION

    user = make_user(app)
    with app.app_context():
        session = get_session()
        session.add(Attempt(user_id=user.id, exercise_id=VISION, exercise_version="v",
                            number=1, submission_token="t", answer={}, status="reviewed",
                            auto_score=None, score=0.9, feedback={}, passed=True))
        session.commit()
        assert session.get(ExerciseTotals, VISION) is None
    result = runner.invoke(args=["rebuild-aggregates"])
    assert result.exit_code == 0 and "Rebuilt 1 learner rows" in result.output
    with app.app_context():
        totals = get_session().get(ExerciseTotals, VISION)
        assert (totals.attempts, totals.learners, totals.scored, totals.passed) == (1, 1, 1, 1)


def test_a_deleted_account_leaves_the_aggregates(app, client, auth):
    from course.models import User
    from course.services import account_data
    from tests.test_exercise_views import SORT, exercise, post

    auth.learner()
    post(client, SORT, correct_answer(exercise(app, SORT)))
    with app.app_context():
        session, course = get_session(), get_course()
        keep = make_user(app, "stays@example.com", "Stays")
        attempts.submit(session, keep.id, course.exercise(SORT),
                        correct_answer(course.exercise(SORT)), "tok", course.exercise(SORT).version)
        gone = session.scalar(select(User).where(User.email == "learner@example.com"))
        account_data.delete_account(session, gone, course)
        kept = snapshot(session)
        aggregates.rebuild(session, course)
        assert same(kept, snapshot(session))
        assert session.get(ExerciseTotals, SORT).learners == 1


@pytest.mark.parametrize("counts", ["highest", "latest"])
def test_a_submission_keeps_the_row_a_recount_of_the_attempts_gives(app, counts):
    """A submission works the learner's row out from the row and the new attempt
    (aggregates.after_submission); the course has no "latest" exercise, so the hypothesis
    test above cannot tell the two policies apart."""
    from tests.test_exercise_views import SORT, wrong_sort_answer

    user = make_user(app).id
    with app.app_context():
        session, base = get_session(), get_course().exercise(SORT)
        exercise = dataclasses.replace(base, policy=dataclasses.replace(
            base.policy, counts=counts, max_attempts=None))
        for form in (wrong_sort_answer(exercise), correct_answer(exercise),
                     wrong_sort_answer(exercise)):
            attempts.submit(session, user, exercise, form, uuid4().hex, exercise.version)
            session.expire_all()
            row = session.get(LearnerExercise, (user, SORT))
            kept = {c: getattr(row, c) for c in aggregates.LEARNER_COLUMNS}
            recounted = aggregates._computed(session, [exercise], [user])[(user, SORT)]
            assert kept == recounted
        assert (kept["ever_passed"], kept["passed"]) == (True, counts == "highest")


def test_learner_keys_noted_in_a_transaction_that_does_not_commit_are_dropped(app):
    learner = make_user(app, "k@example.com", "Keys").id
    with app.app_context():
        session = get_session()

        def steps() -> int:
            session.expire_all()
            return session.get(User, learner).steps_done

        aggregates.note_learner(session, learner, steps_done=1)
        session.rollback()
        aggregates.note_learner(session, learner, steps_done=2)
        session.close()
        session.commit()
        assert steps() == 0
        aggregates.note_learner(session, learner, steps_done=3, score_sum=0.5)
        session.commit()
        assert steps() == 3 and session.get(User, learner).score_sum == 0.5


def test_a_submission_whose_row_changed_since_it_was_read_locks_and_reads_it(app,
                                                                             monkeypatch):
    """The row read before grading is replaced only if it is still that row: when another
    change came in between (here: a row read as it was one attempt ago), the upkeep locks
    and reads the row and still keeps what a recount gives."""
    from tests.test_exercise_views import SORT, wrong_sort_answer

    user = make_user(app).id
    with app.app_context():
        session, exercise = get_session(), get_course().exercise(SORT)
        attempts.submit(session, user, exercise, wrong_sort_answer(exercise), uuid4().hex,
                        exercise.version)
        earlier = attempts.before_submitting(session, user, SORT, "none").kept
        attempts.submit(session, user, exercise, correct_answer(exercise), uuid4().hex,
                        exercise.version)
        real = attempts.before_submitting
        monkeypatch.setattr(attempts, "before_submitting",
                            lambda *args: real(*args)._replace(kept=earlier))
        attempts.submit(session, user, exercise, wrong_sort_answer(exercise), uuid4().hex,
                        exercise.version)
        session.expire_all()
        row = session.get(LearnerExercise, (user, SORT))
        kept = {c: getattr(row, c) for c in aggregates.LEARNER_COLUMNS}
        assert kept == aggregates._computed(session, [exercise], [user])[(user, SORT)]
        assert kept["attempts"] == 3 and kept["ever_passed"]
        snapshot_before = snapshot(session)
        aggregates.rebuild(session, get_course())
        assert same(snapshot_before, snapshot(session))


def _at_once(app: Any, monkeypatch: Any, many: Any, one: Any) -> list[BaseException]:
    """Run `many` (a change to many learners) and `one` (a submission), each in its own
    thread and session: `many` is held once the first learner's upkeep is done (its row
    and the exercise's totals locked), `one` starts, and half a second later (waiting by
    then for a row the other holds) `many` goes on. The errors either raised."""
    import threading
    import time

    held, go_on = threading.Event(), threading.Event()
    real_after_change = aggregates.after_change

    def after_change_then_hold(*args: Any, **kwargs: Any) -> None:
        real_after_change(*args, **kwargs)
        if not held.is_set():
            held.set()
            go_on.wait(10)

    monkeypatch.setattr(aggregates, "after_change", after_change_then_hold)
    failures: list[BaseException] = []

    def in_app(work: Any) -> None:
        try:
            with app.app_context():
                work(get_session(), get_course())
        except BaseException as error:
            failures.append(error)

    changing = threading.Thread(target=in_app, args=(many,))
    submitting = threading.Thread(target=in_app, args=(one,))
    changing.start()
    assert held.wait(10), "the change never reached its first learner's upkeep"
    submitting.start()
    time.sleep(0.5)
    go_on.set()
    changing.join(30)
    submitting.join(30)
    return failures


@pytest.mark.parametrize("change", ["regrade", "release of every review"])
def test_a_change_to_many_learners_and_a_submission_at_once_both_go_through(app, monkeypatch,
                                                                           change):
    """A regrade, or the release of an exercise's reviews, and a submission by one of its
    learners at the same moment: the change must take its learners' rows before the
    exercise's totals, as a submission does, or each waits for a row the other holds (on
    PostgreSQL, a deadlock that aborted one; aggregates.lock_learners). The change is
    held after its first learner (a regrade batch of one attempt; one release) while the
    learner of a later one submits."""
    from tests.test_exercise_views import SORT, wrong_sort_answer

    monkeypatch.setattr(regrade, "REGRADE_BATCH", 1)
    learners = [make_user(app, f"r{n}@example.com", f"Changed {n}").id for n in range(3)]
    instructor = make_user(app, "i@example.com", "Instructor", Role.INSTRUCTOR).id
    with app.app_context():
        session, course = get_session(), get_course()
        exercise = course.exercise(SORT)
        for user in learners:
            stored = attempts.submit(session, user, exercise, wrong_sort_answer(exercise),
                                     uuid4().hex, exercise.version)
            review.save_review(session, stored.id, instructor, stored.revision,
                               review.ReviewInput(None, "Close.", 0.5, "partly right"),
                               course=course)

    def many(session: Session, course: Course) -> None:
        if change == "regrade":
            regrade.regrade_exercise(session, course.exercise(SORT), instructor)
        else:
            assert len(release.release_reviews(session, instructor, course=course,
                                               exercise_id=SORT)) == 3

    def one(session: Session, course: Course) -> None:
        exercise = course.exercise(SORT)
        attempts.submit(session, learners[-1], exercise, correct_answer(exercise),
                        uuid4().hex, exercise.version)

    assert not _at_once(app, monkeypatch, many, one)
    with app.app_context():
        session = get_session()
        assert len(session.scalars(select(Attempt.id)).all()) == 4
        kept = snapshot(session)
        aggregates.rebuild(session, get_course())
        assert same(kept, snapshot(session))


def test_a_submission_chosen_to_end_a_deadlock_is_made_again(app, monkeypatch):
    """Both complete the learner's step: their first pass, submitted while a regrade
    against a corrected key turns their earlier answer into a pass too. The submission
    marks the step complete before it takes the learner's row (held by the regrade); the
    regrade then waits for that mark, and PostgreSQL ends the deadlock by failing the
    one that waited first, the submission, which starts over once the regrade is
    through. Nothing is lost and nothing counted twice."""
    from tests.test_exercise_views import SORT, wrong_sort_answer

    monkeypatch.setattr(regrade, "REGRADE_BATCH", 1)
    learners = [make_user(app, f"r{n}@example.com", f"Regraded {n}").id for n in range(2)]
    with app.app_context():
        session, exercise = get_session(), get_course().exercise(SORT)
        wrong = wrong_sort_answer(exercise)
        for user in learners:
            attempts.submit(session, user, exercise, wrong, uuid4().hex, exercise.version)
    # The corrected key: where the stored answers put each item is right after all.
    corrected = dataclasses.replace(exercise, spec=exercise.spec.model_copy(update={
        "items": tuple(item.model_copy(update={"bucket": wrong[f"place-{item.id}"][0]})
                       for item in exercise.spec.items)}))

    def one(session: Session, course: Course) -> None:
        exercise = course.exercise(SORT)
        attempts.submit(session, learners[-1], exercise, correct_answer(exercise),
                        uuid4().hex, exercise.version)

    failures = _at_once(app, monkeypatch,
                        lambda session, _: regrade.regrade_exercise(session, corrected, None),
                        one)
    assert not failures, failures
    with app.app_context():
        session = get_session()
        assert len(session.scalars(select(Attempt.id)).all()) == 3
        assert set(session.scalars(select(StepProgress.user_id).where(
            StepProgress.step_id == SORT))) == set(learners)
        assert session.get(LearnerExercise, (learners[-1], SORT)).attempts == 2
