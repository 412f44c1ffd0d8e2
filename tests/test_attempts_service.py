"""services.attempts (submit, reads, policy, report) on a real app and database: storing,
idempotency, limits, counting."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from course.content.schema import AttemptPolicy
from course.db import get_session
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.models import Attempt
from course.services import progress
from course.services.aggregates.rebuild import rebuild as rebuild_aggregates
from course.services.attempts import policy as attempt_policy
from course.services.attempts import reads as attempt_reads
from course.services.attempts import report as attempt_page
from course.services.attempts import submit as submission
from course.site import get_course
from tests.helpers import make_user


def placement_form(placements: dict[str, str]) -> dict[str, list[str]]:
    return {f"place-{item}": [target] for item, target in placements.items()}


def model_form(exercise) -> dict[str, list[str]]:
    """A form that answers `exercise` exactly as its model answer does."""
    answer = registry.model_answer(exercise)
    if exercise.kind == "quiz":
        return {f"q-{q}": list(opts) for q, opts in answer["choices"].items()}
    return placement_form(answer["placements"])


def wrong_form(exercise) -> dict[str, list[str]]:
    """Every item in a bucket it does not belong in (sort)."""
    buckets = [b.id for b in exercise.spec.buckets]
    return placement_form({i.id: next(b for b in buckets if b != i.bucket)
                           for i in exercise.spec.items})


@pytest.fixture
def ctx(app):
    with app.app_context():
        user = make_user(app)
        yield SimpleNamespace(session=get_session(), user_id=user.id, course=get_course())


def submit(ctx, exercise, form, token=None, version=None):
    return submission.submit(ctx.session, ctx.user_id, exercise, form, token or uuid4().hex,
                             version or exercise.version)


def count(ctx) -> int:
    return ctx.session.scalar(select(func.count(Attempt.id)))


def test_submit_stores_every_field(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    token = uuid4().hex
    attempt = submit(ctx, exercise, model_form(exercise), token)
    ctx.session.expire_all()
    stored = ctx.session.get(Attempt, attempt.id)
    assert stored.user_id == ctx.user_id
    assert stored.exercise_id == "roadmap-or-backlog"
    assert stored.exercise_version == exercise.version
    assert stored.number == 1
    assert stored.submission_token == token
    assert stored.answer == registry.model_answer(exercise)
    assert stored.status == "auto_graded"
    assert stored.auto_score == stored.score == 1.0
    assert stored.points == stored.max_points == len(exercise.spec.items)
    assert len(stored.feedback["items"]) == len(exercise.spec.items)
    assert stored.passed is True
    assert stored.created_at is not None


def test_passing_marks_the_step_complete_and_failing_does_not(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    failed = submit(ctx, exercise, wrong_form(exercise))
    assert failed.score == 0.0 and failed.passed is False
    assert not progress.is_complete(ctx.session, ctx.user_id, exercise.id)
    passed = submit(ctx, exercise, model_form(exercise))
    assert passed.number == 2 and passed.passed
    assert progress.is_complete(ctx.session, ctx.user_id, exercise.id)


def test_review_waits_for_an_instructor(ctx):
    exercise = ctx.course.exercise("write-a-product-vision")
    form = {f"r-{p.id}": ["My **answer**"] for p in exercise.spec.prompts}
    attempt = submit(ctx, exercise, form)
    assert attempt.status == "awaiting_review"
    assert attempt.score is None and attempt.auto_score is None
    assert attempt.passed is False
    summary = attempt_reads.learner_progress(ctx.session, ctx.user_id, ctx.course)[1][exercise.id]
    assert summary.awaiting_review and summary.counted_score is None


def test_same_token_returns_the_same_attempt(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    token = uuid4().hex
    first = submit(ctx, exercise, model_form(exercise), token)
    again = submit(ctx, exercise, wrong_form(exercise), token)
    assert again.id == first.id and again.score == 1.0
    assert count(ctx) == 1


def _first_look_misses_the_token(monkeypatch):
    """Make the next check before a submission miss the attempt stored with its token, as
    a request racing the one that stores it would."""
    real = submission.before_submitting
    calls = []

    def missing(*args):
        calls.append(1)
        prior = real(*args)
        return prior._replace(resent=None) if len(calls) == 1 else prior

    monkeypatch.setattr(submission, "before_submitting", missing)


def test_a_token_that_lost_the_race_returns_the_stored_attempt(ctx, monkeypatch):
    """Two requests with one token: the loser hits the unique constraint, not a 500."""
    exercise = ctx.course.exercise("roadmap-or-backlog")
    token = uuid4().hex
    first = submit(ctx, exercise, model_form(exercise), token)
    _first_look_misses_the_token(monkeypatch)  # the early check misses it; the retry finds it
    again = submit(ctx, exercise, model_form(exercise), token)
    assert again.id == first.id
    assert count(ctx) == 1


def test_a_resent_last_attempt_returns_the_stored_attempt_not_a_refusal(ctx, monkeypatch):
    """The same form posted twice at once with one attempt left: the resend misses the
    first post's row at first, then finds the limit reached by that very post."""
    exercise = replace(ctx.course.exercise("roadmap-or-backlog"),
                       policy=AttemptPolicy(max_attempts=1))
    token = uuid4().hex
    first = submit(ctx, exercise, model_form(exercise), token)
    _first_look_misses_the_token(monkeypatch)
    again = submit(ctx, exercise, model_form(exercise), token)
    assert again.id == first.id
    assert count(ctx) == 1


def test_attempt_limit(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    assert exercise.policy.max_attempts == 3
    made = [submit(ctx, exercise, wrong_form(exercise)) for _ in range(3)]
    with pytest.raises(submission.AttemptLimitReached) as refused:
        submit(ctx, exercise, model_form(exercise))
    assert refused.value.last_attempt.id == made[-1].id
    assert count(ctx) == 3


def test_stale_version_and_invalid_answers_store_nothing(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    with pytest.raises(submission.StaleExercise):
        submit(ctx, exercise, model_form(exercise), version="0" * 16)
    with pytest.raises(InvalidAnswer) as invalid:
        submit(ctx, exercise, {})
    assert any("Place every item" in p for p in invalid.value.problems)
    with pytest.raises(InvalidAnswer) as tampered:
        submit(ctx, exercise, {**model_form(exercise), "admin": ["1"]})
    assert "'admin'" in tampered.value.problems[0]
    assert count(ctx) == 0


def test_summaries_follow_the_policy(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    submit(ctx, exercise, model_form(exercise))
    submit(ctx, exercise, wrong_form(exercise))
    summary = attempt_reads.learner_progress(ctx.session, ctx.user_id, ctx.course)[1][exercise.id]
    assert summary == attempt_reads.Summary(attempts_used=2, counted_score=1.0, passed=True,
                                            awaiting_review=False)
    latest = replace(ctx.course, steps=tuple(
        replace(s, policy=replace(s.policy, counts="latest")) if s.id == exercise.id else s
        for s in ctx.course.steps))
    rebuild_aggregates(ctx.session, latest)  # a changed policy needs `rebuild-aggregates`
    summary = attempt_reads.learner_progress(ctx.session, ctx.user_id, latest)[1][exercise.id]
    assert summary.counted_score == 0.0 and summary.passed


def test_attempts_left():
    assert attempt_policy.attempts_left(AttemptPolicy(max_attempts=None), 10) is None
    assert attempt_policy.attempts_left(AttemptPolicy(max_attempts=3), 1) == 2
    assert attempt_policy.attempts_left(AttemptPolicy(max_attempts=3), 5) == 0


@pytest.mark.parametrize(("when", "attempts_made", "visible"), [
    ("never", [True], False),
    ("after_pass", [False], False),
    ("after_pass", [False, True], True),
    ("after_pass", [False, False, False], False),
    ("after_last_attempt", [True], False),
    ("after_last_attempt", [False, False, False], True),
    ("after_pass_or_last_attempt", [False], False),
    ("after_pass_or_last_attempt", [True], True),
    ("after_pass_or_last_attempt", [False, False, False], True),
])
def test_model_answer_visible(when, attempts_made, visible):
    policy = AttemptPolicy(max_attempts=3, model_answer=when)
    assert attempt_policy.model_answer_visible(policy, len(attempts_made),
                                               any(attempts_made)) is visible


def test_model_answer_after_last_attempt_never_shows_when_unlimited():
    policy = AttemptPolicy(max_attempts=None, model_answer="after_last_attempt")
    assert not attempt_policy.model_answer_visible(policy, 9, False)


def test_report_hides_the_answer_until_the_policy_allows(ctx):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    wrong = submit(ctx, exercise, wrong_form(exercise))
    report = attempt_page.attempt_report(exercise, wrong, attempt_reads.Standing.of([wrong]))
    assert not report.answer_visible and report.can_retry
    item = report.items[0]
    assert item.mark == "wrong" and item.expected == ()
    assert item.message == exercise.spec.items[0].hint
    submit(ctx, exercise, model_form(exercise))
    report = attempt_page.attempt_report(
        exercise, wrong, attempt_reads.standing(ctx.session, ctx.user_id, exercise.id))
    assert report.answer_visible
    assert report.items[0].message == exercise.spec.items[0].explanation
    assert report.items[0].expected == (exercise.spec.items[0].bucket,)


def _stale_view_once(monkeypatch):
    """Make the next count of attempts miss the newest ones, as a second tab would."""
    real = submission.before_submitting
    calls = []

    def stale(*args):
        calls.append(1)
        prior = real(*args)
        return prior._replace(standing=attempt_reads.Standing(0, False, None)) \
            if len(calls) == 1 else prior

    monkeypatch.setattr(submission, "before_submitting", stale)


def test_a_racing_tab_gets_the_next_number(ctx, monkeypatch):
    exercise = ctx.course.exercise("roadmap-or-backlog")
    submit(ctx, exercise, wrong_form(exercise))
    _stale_view_once(monkeypatch)
    second = submit(ctx, exercise, wrong_form(exercise))
    assert second.number == 2
    assert count(ctx) == 2


def test_a_racing_tab_cannot_pass_the_attempt_limit(ctx, monkeypatch):
    exercise = replace(ctx.course.exercise("roadmap-or-backlog"),
                       policy=AttemptPolicy(max_attempts=1))
    submit(ctx, exercise, wrong_form(exercise))
    _stale_view_once(monkeypatch)
    with pytest.raises(submission.AttemptLimitReached):
        submit(ctx, exercise, wrong_form(exercise))
    assert count(ctx) == 1


def test_a_post_that_keeps_clashing_stores_nothing_and_says_so(ctx, monkeypatch):
    """Many tabs posting at once: each retry finds its number taken again. After a bounded
    number of tries the post is refused with SubmissionClash (a 409 in the view), not an
    IntegrityError (a 500), and nothing of it is stored."""
    exercise = ctx.course.exercise("roadmap-or-backlog")
    submit(ctx, exercise, wrong_form(exercise))
    monkeypatch.setattr(submission, "before_submitting",
                        lambda *_: submission.Prior(attempt_reads.Standing(0, False, None), None))
    with pytest.raises(submission.SubmissionClash):
        submit(ctx, exercise, wrong_form(exercise))
    assert count(ctx) == 1


def test_before_submitting_agrees_with_the_counted_standing(ctx):
    """The check before a submission reads the kept report row and the newest attempt;
    it tells what counting the attempts tells, and finds a resent form's attempt."""
    sort = ctx.course.exercise("roadmap-or-backlog")
    vision = ctx.course.exercise("write-a-product-vision")
    token = uuid4().hex

    def both(exercise, token="unused"):
        prior = submission.before_submitting(ctx.session, ctx.user_id, exercise.id, token)
        return prior[:2], attempt_reads.standing(ctx.session, ctx.user_id, exercise.id)

    prior, counted = both(sort)
    assert prior == (counted, None) and counted.used == 0
    submit(ctx, sort, wrong_form(sort))
    first = submit(ctx, sort, model_form(sort), token)
    prior, counted = both(sort, token)
    assert prior == (counted, first.id)
    assert counted.used == 2 and counted.passed and counted.last_id == first.id
    submit(ctx, vision, {f"r-{p.id}": ["My answer"] for p in vision.spec.prompts})
    prior, counted = both(vision, token)
    assert prior == (counted, first.id) and counted.awaiting_review
