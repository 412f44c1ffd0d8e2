"""services.review, release, feedback and regrade: rubric grading, overrides and their
audit trail, concurrent saves, releasing drafts, feedback read state, and regrading stored
attempts after an answer key changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from course.db import get_session
from course.models import Attempt, Role, ScoreChange
from course.services import feedback as feedback_service
from course.services import progress
from course.services import regrade as regrade_service
from course.services import release as release_service
from course.services import review as review_service
from course.site import get_course
from tests.helpers import make_user
from tests.review_factories import (
    SORT,
    VISION,
    VISION_ANSWER,
    copy_course,
    edit_file,
    sort_form,
    submit,
)

GOOD_LEVELS = {"vision-short-aspirational": 2, "strategy-how-who-value": 2,
               "choices-not-features": 1, "vision-strategy-distinct": 1}  # 6 of 8


@pytest.fixture
def people(app):
    learner = make_user(app, "lee@example.com", "Lee Learner")
    teacher = make_user(app, "ines@example.com", "Ines Instructor", Role.INSTRUCTOR)
    other = make_user(app, "omar@example.com", "Omar Instructor", Role.INSTRUCTOR)
    return learner.id, teacher.id, other.id


def _save(app, attempt_id, reviewer_id, revision=1, levels=GOOD_LEVELS, feedback="Good.",
          override=None, reason="", release=True):
    """Save a review and (unless `release` is False) release it, as the reviewer."""
    with app.app_context():
        session = get_session()
        saved = review_service.save_review(
            session, attempt_id, reviewer_id, revision,
            review_service.ReviewInput(levels, feedback, override, reason),
            course=get_course())
        if release:
            release_service.release_reviews(session, reviewer_id, course=get_course(),
                                            attempt_id=attempt_id)
        return saved


def _attempt(app, attempt_id):
    with app.app_context():
        return get_session().get(Attempt, attempt_id)


def _history(app, attempt_id):
    with app.app_context():
        return list(get_session().scalars(select(ScoreChange).where(
            ScoreChange.attempt_id == attempt_id).order_by(ScoreChange.id)))


def test_rubric_review_scores_passes_and_completes_the_step(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    assert _attempt(app, attempt_id).status == "awaiting_review"

    _save(app, attempt_id, teacher, feedback="  Strong **vision**.  ")

    attempt = _attempt(app, attempt_id)
    assert attempt.status == "reviewed"
    assert attempt.score == pytest.approx(0.75)
    assert attempt.passed
    assert (attempt.points, attempt.max_points) == (6, 8)
    assert attempt.rubric["levels"] == {k: float(v) for k, v in GOOD_LEVELS.items()}
    assert attempt.instructor_feedback == "Strong **vision**."
    assert attempt.reviewer_id == teacher
    assert attempt.reviewed_at is not None
    assert attempt.feedback_unread
    assert attempt.revision == 3  # saved, then released
    assert not attempt.overridden
    [change] = _history(app, attempt_id)
    assert (change.kind, change.old_score, change.new_score, change.changed_by_id) == (
        "review", None, pytest.approx(0.75), teacher)
    with app.app_context():
        assert progress.is_complete(get_session(), learner, VISION)


def test_a_failing_review_does_not_complete_the_step(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    _save(app, attempt_id, teacher, levels=dict.fromkeys(GOOD_LEVELS, 0))
    assert not _attempt(app, attempt_id).passed
    with app.app_context():
        assert not progress.is_complete(get_session(), learner, VISION)


@pytest.mark.parametrize("levels", [
    {"vision-short-aspirational": 2},  # criteria missing
    {**GOOD_LEVELS, "choices-not-features": 5},  # no such level
    {**GOOD_LEVELS, "made-up": 1},  # no such criterion
])
def test_an_incomplete_rubric_stores_nothing(app, people, levels):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    with pytest.raises(review_service.ReviewInvalid):
        _save(app, attempt_id, teacher, levels=levels)
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.score, attempt.revision) == ("awaiting_review", None, 1)
    assert _history(app, attempt_id) == []


def test_written_work_needs_a_rubric(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    with pytest.raises(review_service.ReviewInvalid, match="every rubric criterion"):
        _save(app, attempt_id, teacher, levels=None)


def test_auto_graded_work_has_no_rubric(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, SORT, sort_form(app))
    with pytest.raises(review_service.ReviewInvalid, match="rubric"):
        _save(app, attempt_id, teacher)


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_reason(app, people, reason):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, SORT, sort_form(app, wrong=4))
    before = _attempt(app, attempt_id).score
    with pytest.raises(review_service.ReviewInvalid, match="reason"):
        _save(app, attempt_id, teacher, levels=None, override=0.9, reason=reason)
    attempt = _attempt(app, attempt_id)
    assert (attempt.score, attempt.overridden, attempt.revision) == (before, False, 1)
    assert _history(app, attempt_id) == []


@pytest.mark.parametrize("score", [-0.1, 1.5, float("nan"), float("inf")])
def test_an_override_outside_0_to_100_percent_is_refused(app, people, score):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, SORT, sort_form(app))
    with pytest.raises(review_service.ReviewInvalid, match="between"):
        _save(app, attempt_id, teacher, levels=None, override=score, reason="why not")


def test_an_override_is_audited_and_decides_the_pass(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, SORT, sort_form(app, wrong=6))
    auto = _attempt(app, attempt_id).score
    assert auto < 0.8

    _save(app, attempt_id, teacher, levels=None, override=0.85,
          reason="Item 3 was ambiguous in this version.")

    attempt = _attempt(app, attempt_id)
    assert (attempt.score, attempt.auto_score, attempt.overridden) == (0.85, auto, True)
    assert attempt.passed and attempt.status == "reviewed"
    [change] = _history(app, attempt_id)
    assert (change.kind, change.old_score, change.new_score) == ("override", auto, 0.85)
    assert change.changed_by_id == teacher
    assert change.reason == "Item 3 was ambiguous in this version."
    assert change.changed_at is not None


def test_resaving_the_same_override_needs_no_new_reason_and_keeps_it(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, SORT, sort_form(app))
    _save(app, attempt_id, teacher, levels=None, override=0.5, reason="Copied answer.",
          release=False)
    _save(app, attempt_id, teacher, revision=2, levels=None, override=0.5,
          feedback="See me.")
    assert _attempt(app, attempt_id).instructor_feedback == "See me."
    [release] = _history(app, attempt_id)
    assert (release.kind, release.new_score, release.reason) == ("override", 0.5,
                                                                 "Copied answer.")


def test_removing_an_override_returns_to_the_graded_score(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    _save(app, attempt_id, teacher, override=1.0, reason="Exceptional.")
    assert _attempt(app, attempt_id).score == 1.0
    _save(app, attempt_id, teacher, revision=3)
    attempt = _attempt(app, attempt_id)
    assert (attempt.score, attempt.overridden) == (pytest.approx(0.75), False)
    assert [(c.kind, c.old_score, c.new_score) for c in _history(app, attempt_id)] == [
        ("override", None, 1.0), ("review", 1.0, pytest.approx(0.75))]


def test_two_instructors_saving_the_same_revision_the_second_is_refused(app, people):
    learner, teacher, other = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    _save(app, attempt_id, teacher, feedback="First.")
    with pytest.raises(review_service.ReviewConflict):
        _save(app, attempt_id, other, levels=dict.fromkeys(GOOD_LEVELS, 0),
              feedback="Second.")
    attempt = _attempt(app, attempt_id)
    assert (attempt.instructor_feedback, attempt.reviewer_id) == ("First.", teacher)
    assert attempt.score == pytest.approx(0.75)
    assert len(_history(app, attempt_id)) == 1


def test_a_save_racing_another_session_is_caught_by_the_conditional_update(app, people):
    """Both sessions read revision 1; only the conditional UPDATE can tell them apart."""
    learner, teacher, other = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    with app.app_context():
        slow = get_session()
        assert slow.get(Attempt, attempt_id).revision == 1  # loaded before the other save
        with app.app_context():
            fast = get_session()
            review_service.save_review(fast, attempt_id, other, 1,
                                       review_service.ReviewInput(GOOD_LEVELS, "Fast."),
                                       course=get_course())
        with pytest.raises(review_service.ReviewConflict):
            review_service.save_review(slow, attempt_id, teacher, 1,
                                       review_service.ReviewInput(GOOD_LEVELS, "Slow."),
                                       course=get_course())
    assert _attempt(app, attempt_id).draft["feedback"] == "Fast."


def test_unknown_attempt(app, people):
    with pytest.raises(review_service.AttemptNotFound):
        _save(app, 999_999, people[1])


def test_reading_feedback_clears_the_new_feedback_mark(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    with app.app_context():
        session = get_session()
        attempt = session.get(Attempt, attempt_id)
        assert feedback_service.read_feedback(session, attempt, get_course().exercise(VISION)) \
            is None
    _save(app, attempt_id, teacher, feedback="Nice *work*.")
    with app.app_context():
        session = get_session()
        assert feedback_service.exercises_with_new_feedback(session, learner) == {VISION}
        attempt = session.get(Attempt, attempt_id)
        feedback = feedback_service.read_feedback(session, attempt,
                                                  get_course().exercise(VISION))
        assert feedback.reviewer_name == "Ines Instructor"
        assert feedback.feedback_markdown == "Nice *work*."
        assert feedback.score == pytest.approx(0.75)
        assert next((r.title, r.label, r.points) for r in feedback.rubric) == (
            "The vision is short and aspirational", "Strong", 2)
        assert feedback_service.exercises_with_new_feedback(session, learner) == set()
    attempt = _attempt(app, attempt_id)
    assert not attempt.feedback_unread
    assert attempt.revision == 3  # reading does not make an open review form stale


# ---------------------------------------------------------------------------- regrade


def _move_first_item_to_backlog(text: str) -> str:
    """roadmap-or-backlog: 'plan-in-ten-minutes' now belongs in the backlog."""
    head, _, tail = text.partition("  - id: plan-in-ten-minutes\n")
    return head + "  - id: plan-in-ten-minutes\n" + tail.replace(
        "bucket: roadmap", "bucket: backlog", 1)


def test_regrade_rescores_attempts_and_keeps_overrides(make_app, tmp_path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(before, "lee@example.com", "Lee Learner").id
    teacher = make_user(before, "ines@example.com", "Ines", Role.INSTRUCTOR).id
    right = submit(before, learner, SORT, sort_form(before))
    second = make_user(before, "sam@example.com", "Sam Second").id
    partly = submit(before, second, SORT, sort_form(before, wrong=1))  # item 1 wrong
    overridden = submit(before, make_user(before, "ola@example.com", "Ola").id, SORT,
                        sort_form(before))
    _save(before, overridden, teacher, levels=None, override=0.95, reason="Late fix.")
    old_version = _attempt(before, right).exercise_version

    edit_file(content / "exercises" / "roadmap-or-backlog.yaml", _move_first_item_to_backlog)
    after = make_app(COURSE_CONTENT_DIR=str(content))
    with after.app_context():
        exercise = get_course().exercise(SORT)
        assert exercise.version != old_version
        report = regrade_service.regrade_exercise(get_session(), exercise, teacher)

    assert report.regraded == 3
    changes = {c.attempt_id: c for c in report.changed}
    assert set(changes) == {right, partly}
    assert changes[right].old_score == 1.0 and changes[right].new_score < 1.0
    assert changes[right].learner == "Lee Learner"
    assert changes[partly].new_score == 1.0  # the "wrong" bucket is now the right one
    assert [k.attempt_id for k in report.kept] == [overridden]
    assert report.failed == []

    kept = _attempt(after, overridden)
    assert (kept.score, kept.overridden) == (0.95, True)
    assert kept.auto_score < 1.0 and kept.regraded_at is not None
    rescored = _attempt(after, right)
    assert rescored.score == rescored.auto_score == changes[right].new_score
    assert not rescored.passed or rescored.score >= 0.8
    assert rescored.revision == 2 and rescored.regraded_at is not None
    [audit] = _history(after, right)
    assert (audit.kind, audit.old_score, audit.changed_by_id) == ("regrade", 1.0, teacher)
    assert [c.kind for c in _history(after, overridden)] == ["override"]
    with after.app_context():
        assert progress.is_complete(get_session(), second, SORT)


def test_regrade_reports_answers_that_no_longer_fit(make_app, tmp_path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(before).id
    attempt_id = submit(before, learner, SORT, sort_form(before))
    edit_file(content / "exercises" / "roadmap-or-backlog.yaml",
              lambda t: t.replace("- id: plan-in-ten-minutes", "- id: plan-in-ten-mins"))
    after = make_app(COURSE_CONTENT_DIR=str(content))
    with after.app_context():
        report = regrade_service.regrade_exercise(get_session(), get_course().exercise(SORT),
                                                  None)
    assert report.regraded == 0 and report.changed == []
    [(change, why)] = report.failed
    assert change.attempt_id == attempt_id and "plan-in-ten-m" in why
    assert _attempt(after, attempt_id).score == 1.0


def test_regrade_refuses_written_work(app):
    with app.app_context(), pytest.raises(regrade_service.NothingToRegrade):
        regrade_service.regrade_exercise(get_session(), get_course().exercise(VISION), None)


def test_regrade_cli_prints_changed_scores(make_app, tmp_path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    submit(before, make_user(before).id, SORT, sort_form(before))
    edit_file(content / "exercises" / "roadmap-or-backlog.yaml", _move_first_item_to_backlog)
    after = make_app(COURSE_CONTENT_DIR=str(content))
    result = after.test_cli_runner().invoke(args=["regrade", SORT])
    assert result.exit_code == 0, result.output
    assert "1 scores changed" in result.output
    assert "Lee Learner" in result.output and "100% ->" in result.output

    for bad in ("no-such-exercise", VISION):
        result = after.test_cli_runner().invoke(args=["regrade", bad])
        assert result.exit_code != 0


# ---------------------------------------------------------------------------- release


def test_a_draft_changes_nothing_the_learner_sees(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    saved = _save(app, attempt_id, teacher, feedback="Draft words.", release=False)
    assert saved.released is None
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.score, attempt.passed, attempt.instructor_feedback,
            attempt.reviewed_at, attempt.feedback_unread) == (
        "awaiting_review", None, False, None, None, False)
    assert attempt.draft["score"] == pytest.approx(0.75) and attempt.draft_by_id == teacher
    assert _history(app, attempt_id) == []
    with app.app_context():
        session = get_session()
        assert feedback_service.exercises_with_new_feedback(session, learner) == set()
        assert feedback_service.read_feedback(session, attempt, get_course().exercise(VISION)) \
            is None
        assert not progress.is_complete(session, learner, VISION)


def test_release_all_releases_every_draft_of_one_exercise(app, people):
    learner, teacher, other = people
    second = make_user(app, "sam@example.com", "Sam Second").id
    drafts = [submit(app, person, VISION, VISION_ANSWER) for person in (learner, second)]
    untouched = submit(app, make_user(app, "ula@example.com", "Ula").id, VISION,
                       VISION_ANSWER)
    sort_draft = submit(app, learner, SORT, sort_form(app))
    for attempt_id in drafts:
        _save(app, attempt_id, teacher, release=False)
    _save(app, sort_draft, teacher, levels=None, override=0.5, reason="x", release=False)
    with app.app_context():
        session = get_session()
        assert release_service.count_drafts(session, VISION) == 2
        released = release_service.release_reviews(session, other, course=get_course(),
                                                   exercise_id=VISION)
        assert release_service.count_drafts(session, VISION) == 0
    assert sorted(r.attempt_id for r in released) == sorted(drafts)
    assert {r.user_id for r in released} == {learner, second}
    for attempt_id in drafts:
        attempt = _attempt(app, attempt_id)
        assert (attempt.status, attempt.reviewer_id, attempt.feedback_unread) == (
            "reviewed", teacher, True)
        [change] = _history(app, attempt_id)
        assert change.changed_by_id == other  # who released it
    assert _attempt(app, untouched).status == "awaiting_review"
    assert _attempt(app, sort_draft).draft is not None  # another exercise's draft waits


def test_releasing_twice_releases_once(app, people):
    learner, teacher, _ = people
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    _save(app, attempt_id, teacher, release=False)
    with app.app_context():
        session = get_session()
        first = release_service.release_reviews(session, teacher, course=get_course(),
                                                attempt_id=attempt_id)
        again = release_service.release_reviews(session, teacher, course=get_course(),
                                                attempt_id=attempt_id)
    assert len(first) == 1 and again == []
    assert len(_history(app, attempt_id)) == 1


def test_an_exercise_can_release_reviews_on_save(make_app, tmp_path):
    content = copy_course(tmp_path)
    edit_file(content / "exercises" / "write-a-product-vision.yaml",
              lambda t: t.replace("  pass_mark: 0.6", "  pass_mark: 0.6\n  release: on_save"))
    app = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(app, "lee@example.com", "Lee Learner").id
    teacher = make_user(app, "ines@example.com", "Ines", Role.INSTRUCTOR).id
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    saved = _save(app, attempt_id, teacher, release=False)
    assert saved.released is not None and saved.released.user_id == learner
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.draft, attempt.feedback_unread) == ("reviewed", None, True)
    assert [c.kind for c in _history(app, attempt_id)] == ["review"]


def test_a_course_wide_release_setting_applies_unless_an_exercise_overrides_it(tmp_path):
    from course.content.loader import load_course

    content = copy_course(tmp_path)
    before = load_course(content)
    edit_file(content / "course.yaml", lambda t: t + "release: on_save\n")
    edit_file(content / "exercises" / "write-a-product-vision.yaml",
              lambda t: t.replace("  pass_mark: 0.6", "  pass_mark: 0.6\n  release: manual"))
    course = load_course(content)
    releases = {e.id: e.policy.release for e in course.exercises}
    assert releases.pop(VISION) == "manual"  # the exercise's own setting wins
    assert set(releases.values()) == {"on_save"}
    # The setting says when learners see a review, not how it is graded: no new version.
    assert [e.version for e in course.exercises] == [e.version for e in before.exercises]


def test_the_course_wide_release_setting_releases_on_save(make_app, tmp_path):
    content = copy_course(tmp_path)
    edit_file(content / "course.yaml", lambda t: t + "release: on_save\n")
    app = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(app, "lee@example.com", "Lee Learner").id
    teacher = make_user(app, "ines@example.com", "Ines", Role.INSTRUCTOR).id
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    saved = _save(app, attempt_id, teacher, release=False)
    assert saved.released is not None
    assert _attempt(app, attempt_id).status == "reviewed"


def test_an_unknown_course_wide_release_setting_is_refused_naming_the_field(tmp_path):
    from course.content.errors import ContentError
    from course.content.loader import load_course

    content = copy_course(tmp_path)
    edit_file(content / "course.yaml", lambda t: t + "release: weekly\n")
    with pytest.raises(ContentError, match=r"course\.yaml.*release.*manual.*on_save"):
        load_course(content)


def test_an_unknown_release_setting_is_refused_naming_the_field(tmp_path):
    from course.content.errors import ContentError
    from course.content.loader import load_course

    content = copy_course(tmp_path)
    edit_file(content / "exercises" / "write-a-product-vision.yaml",
              lambda t: t.replace("  pass_mark: 0.6", "  pass_mark: 0.6\n  release: later"))
    with pytest.raises(ContentError, match=r"policy\.release"):
        load_course(content)


def test_regrade_preview_changes_nothing(make_app, tmp_path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    attempt_id = submit(before, make_user(before).id, SORT, sort_form(before))
    edit_file(content / "exercises" / "roadmap-or-backlog.yaml", _move_first_item_to_backlog)
    after = make_app(COURSE_CONTENT_DIR=str(content))
    with after.app_context():
        report = regrade_service.preview_regrade(get_session(), get_course().exercise(SORT))
    assert report.regraded == 1 and [c.attempt_id for c in report.changed] == [attempt_id]
    attempt = _attempt(after, attempt_id)
    assert (attempt.score, attempt.revision, attempt.regraded_at) == (1.0, 1, None)
    assert _history(after, attempt_id) == []
