"""The report services on small hand-made data: counted scores, rates, paging, misconceptions."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from course.content.schema import Course
from course.db import get_session
from course.grading import registry
from course.models import Attempt, Role, StepProgress, User
from course.models.attempt import AttemptStatus
from course.services import progress
from course.services.aggregates import upkeep
from course.services.aggregates.rebuild import rebuild as rebuild_aggregates
from course.services.reports.dashboard import ExerciseStats, dashboard
from course.services.reports.gradebook import (
    GradebookPage,
    GradebookSort,
    gradebook,
    gradebook_columns,
)
from course.services.reports.gradebook_csv import csv_text, gradebook_csv, neutralise
from course.services.reports.misconceptions import Segment, misconceptions
from course.site import get_course

SORT = "roadmap-or-backlog"
VISION = "write-a-product-vision"
QUIZ = "final-quiz"


@pytest.fixture
def db(app) -> Iterator[tuple[Session, Course]]:
    with app.app_context():
        yield get_session(), get_course()


def with_policy(course: Course, exercise_id: str, **changes: Any) -> Course:
    """The same course with one exercise's attempt policy changed."""
    steps = tuple(dataclasses.replace(s, policy=dataclasses.replace(s.policy, **changes))
                  if s.id == exercise_id else s for s in course.steps)
    return dataclasses.replace(course, steps=steps)


def learner(session: Session, name: str, role: Role = Role.LEARNER) -> int:
    user = User(email=f"{name.lower().replace(' ', '.')}@example.com", display_name=name,
                password_hash="x", role=role.value)
    session.add(user)
    session.commit()
    return user.id


def attempt(session: Session, user_id: int, exercise_id: str, number: int,
            score: float | None, *, passed: bool | None = None,
            status: str = AttemptStatus.AUTO_GRADED, answer: Any = None) -> None:
    session.add(Attempt(
        user_id=user_id, exercise_id=exercise_id, exercise_version="v", number=number,
        submission_token=f"t-{exercise_id}-{number}", answer=answer or {}, status=status,
        auto_score=score, score=score, feedback={"items": [], "rules": []},
        passed=bool(score is not None and score >= 0.8) if passed is None else passed))
    upkeep.after_change(session, get_course().exercise(exercise_id), [user_id],
                            entered=[answer or {}] if status == AttemptStatus.AUTO_GRADED
                            else [])
    session.commit()


def stats_for(stats: list[ExerciseStats], exercise_id: str) -> ExerciseStats:
    return next(s for s in stats if s.exercise.id == exercise_id)


def test_dashboard_counts_the_highest_attempt_by_default(db):
    session, course = db
    ann, bob = learner(session, "Ann"), learner(session, "Bob")
    attempt(session, ann, SORT, 1, 0.9)
    attempt(session, ann, SORT, 2, 0.5)
    attempt(session, bob, SORT, 1, 0.6)

    row = stats_for(dashboard(session, course), SORT)
    assert (row.attempts, row.learners, row.awaiting_review) == (3, 2, 0)
    assert row.mean_score == pytest.approx(0.75)  # Ann 0.9 counts, not her later 0.5
    assert row.pass_rate == pytest.approx(0.5)


def test_dashboard_counts_the_latest_scored_attempt_when_the_policy_says_so(db):
    session, course = db
    ann, bob = learner(session, "Ann"), learner(session, "Bob")
    attempt(session, ann, SORT, 1, 0.9)
    attempt(session, ann, SORT, 2, 0.5)
    attempt(session, bob, SORT, 1, 0.6)

    latest = with_policy(course, SORT, counts="latest")
    rebuild_aggregates(session, latest)  # a changed policy needs `rebuild-aggregates`
    row = stats_for(dashboard(session, latest), SORT)
    assert row.mean_score == pytest.approx(0.55)
    assert row.pass_rate == 0


def test_dashboard_awaiting_review_is_counted_but_not_scored(db):
    session, course = db
    ann, bob = learner(session, "Ann"), learner(session, "Bob")
    attempt(session, ann, VISION, 1, None, status=AttemptStatus.AWAITING_REVIEW)
    attempt(session, bob, VISION, 1, 0.7, passed=True, status=AttemptStatus.REVIEWED)
    attempt(session, bob, VISION, 2, None, status=AttemptStatus.AWAITING_REVIEW)

    for policy in ("highest", "latest"):
        changed = with_policy(course, VISION, counts=policy)
        rebuild_aggregates(session, changed)
        row = stats_for(dashboard(session, changed), VISION)
        assert (row.attempts, row.learners, row.awaiting_review) == (3, 2, 2)
        assert row.mean_score == pytest.approx(0.7)  # Bob's reviewed attempt; Ann has none
        assert row.pass_rate == pytest.approx(0.5)


def test_dashboard_lists_untried_exercises_with_nothing(db):
    session, course = db
    stats = dashboard(session, course)
    assert [s.exercise.id for s in stats] == [e.id for e in course.exercises]
    assert all(s.attempts == 0 and s.mean_score is None and s.pass_rate is None
               for s in stats)


def test_gradebook_pages_learners_by_name_with_counted_scores_total_and_completion(db):
    session, course = db
    ids = {name: learner(session, name) for name in ("Eve", "Cy", "Al", "Dee", "Bo")}
    learner(session, "Ian Instructor", Role.INSTRUCTOR)
    attempt(session, ids["Cy"], SORT, 1, 0.5)
    attempt(session, ids["Cy"], SORT, 2, 1.0)
    attempt(session, ids["Cy"], VISION, 1, None, status=AttemptStatus.AWAITING_REVIEW)
    attempt(session, ids["Dee"], QUIZ, 1, 0.7)
    lessons = [s for s in course.steps if s.kind == "lesson"]
    session.add_all([StepProgress(user_id=ids["Cy"], step_id=s.id) for s in lessons[:3]]
                    + [StepProgress(user_id=ids["Cy"], step_id="no-longer-in-the-course")])
    session.commit()

    first = gradebook(session, course, page=1, page_size=2)
    assert (first.learners, first.pages) == (5, 3)
    assert [r.name for r in first.rows] == ["Al", "Bo"]
    page = gradebook(session, course, page=2, page_size=2)
    cy, dee = page.rows
    assert (cy.name, dee.name) == ("Cy", "Dee")
    assert cy.scores == {SORT: 1.0, VISION: None}  # highest counts; review still pending
    assert cy.total == pytest.approx(1.0 / len(course.exercises))
    # Three lessons marked complete, and the sort exercise, completed by its pass.
    assert cy.completion == pytest.approx(4 / len(course.steps))
    assert dee.scores == {QUIZ: 0.7} and dee.completion == 0
    assert [r.name for r in gradebook(session, course, 3, 2).rows] == ["Eve"]
    assert gradebook(session, course, 4, 2).rows == []


def test_gradebook_csv_covers_every_learner_in_batches(db):
    session, course = db
    for n in range(7):
        learner(session, f"Learner {n}")
    rows = list(gradebook_csv(session, course, batch_size=3))
    assert rows[0] == (["learner_id", "name", "email"] + [e.id for e in course.exercises]
                       + ["awaiting_review", "total", "completion"])
    assert [r[1] for r in rows[1:]] == [f"Learner {n}" for n in range(7)]
    assert all(r[-2:] == ["0.0", "0.0"] for r in rows[1:])


@pytest.fixture
def sortable(db):
    """Learners with ties, missing work and pending work in several columns."""
    session, course = db
    ids = {name: learner(session, name) for name in ("Ann", "Bo", "Cy", "Dee", "Eve", "Fay")}
    session.add(User(email="bo.two@example.com", display_name="Bo", password_hash="x",
                     role=Role.LEARNER.value))  # a second learner called Bo
    rows = {"Ann": [(SORT, 1.0)], "Cy": [(SORT, 0.5), (QUIZ, 0.5)], "Dee": [(SORT, 0.5)],
            "Eve": [(VISION, None)], "Fay": [(SORT, 1.0), (VISION, None)]}
    for name, scores in rows.items():
        for exercise_id, score in scores:
            attempt(session, ids[name], exercise_id, 1, score,
                    status=(AttemptStatus.AWAITING_REVIEW if score is None
                            else AttemptStatus.AUTO_GRADED))
    lessons = [s for s in course.steps if s.kind == "lesson"]
    # Lessons marked complete; a pass (Ann's and Fay's sort) completes its exercise.
    for user, step in ([(ids["Dee"], s) for s in lessons[:4]] + [(ids["Ann"], lessons[0])]):
        progress.mark_complete(session, user, step.id)  # kept in the completion order
    session.commit()
    return session, course


def _names(book: GradebookPage) -> list[str]:
    return [r.name for r in book.rows]


@pytest.mark.parametrize(("key", "descending", "expected"), [
    ("name", False, ["Ann", "Bo", "Bo", "Cy", "Dee", "Eve", "Fay"]),
    ("name", True, ["Fay", "Eve", "Dee", "Cy", "Bo", "Bo", "Ann"]),
    # Not attempted, then awaiting review, then scores; ties by name.
    (f"ex-{SORT}", False, ["Bo", "Bo", "Eve", "Cy", "Dee", "Ann", "Fay"]),
    (f"ex-{SORT}", True, ["Ann", "Fay", "Cy", "Dee", "Bo", "Bo", "Eve"]),
    (f"ex-{VISION}", True, ["Eve", "Fay", "Ann", "Bo", "Bo", "Cy", "Dee"]),
    ("total", True, ["Ann", "Cy", "Fay", "Dee", "Bo", "Bo", "Eve"]),  # three tie at 1.0
    ("awaiting", True, ["Eve", "Fay", "Ann", "Bo", "Bo", "Cy", "Dee"]),
    ("completion", True, ["Dee", "Ann", "Fay", "Bo", "Bo", "Cy", "Eve"]),
    ("completion", False, ["Bo", "Bo", "Cy", "Eve", "Fay", "Ann", "Dee"]),
])
def test_gradebook_sorts_by_any_column_with_ties_broken_by_name(sortable, key, descending,
                                                                  expected):
    session, course = sortable
    sort = GradebookSort(key, descending)
    whole = gradebook(session, course, page=1, page_size=50, sort=sort)
    assert _names(whole) == expected
    # Pages of two, and the CSV read in batches of two, give the same single order.
    paged = [row.user_id for page in range(1, 5) for row in gradebook(
        session, course, page=page, page_size=2, sort=sort).rows]
    assert paged == [r.user_id for r in whole.rows]
    # So do pages after the last learner of the one before (Next), and back again
    # before the first learner of the one after (Previous), ties included.
    pages = [gradebook(session, course, page_size=2, sort=sort)]
    while pages[-1].page < pages[-1].pages:
        pages.append(gradebook(session, course, page=pages[-1].page + 1, page_size=2,
                               sort=sort, after=pages[-1].last_id))
    assert [row.user_id for book in pages for row in book.rows] == paged
    back = [pages[-1]]
    while back[-1].page > 1:
        back.append(gradebook(session, course, page=back[-1].page - 1, page_size=2,
                              sort=sort, before=back[-1].first_id))
    assert [row.user_id for book in reversed(back) for row in book.rows] == paged
    csv_rows = list(gradebook_csv(session, course, batch_size=2, sort=sort))
    assert [int(r[0]) for r in csv_rows[1:]] == paged


def test_two_learners_with_one_name_keep_their_order_both_ways(sortable):
    session, course = sortable
    up = gradebook(session, course, sort=GradebookSort(f"ex-{SORT}"))
    down = gradebook(session, course, sort=GradebookSort(f"ex-{SORT}", True))
    bos = [[r.user_id for r in book.rows if r.name == "Bo"] for book in (up, down)]
    assert bos[0] == bos[1] == sorted(bos[0])  # ties: by name, then account, either way


def test_gradebook_filter_finds_learners_by_name_or_email_in_the_sorted_order(sortable):
    session, course = sortable
    book = gradebook(session, course, sort=GradebookSort("total", True),
                     learner_filter="bo")
    assert (_names(book), book.learners) == (["Bo", "Bo"], 2)
    book = gradebook(session, course, learner_filter="fay@")
    assert (_names(book), book.learners) == (["Fay"], 1)
    book = gradebook(session, course, learner_filter="100%_")
    assert (book.rows, book.learners) == ([], 0)  # wildcards are text
    csv_rows = list(gradebook_csv(session, course, learner_filter="fay@"))
    assert [r[1] for r in csv_rows[1:]] == ["Fay"]


def test_an_unknown_sort_column_falls_back_to_names(db):
    _, course = db
    assert GradebookSort.parse(course, "password", "desc") == GradebookSort(
        "name", True)
    assert GradebookSort.parse(course, f"ex-{SORT}", "sideways") == \
        GradebookSort(f"ex-{SORT}")
    assert GradebookSort.parse(course, None, None).query_args() == {}


def test_the_csv_header_follows_the_page_columns(db):
    _, course = db
    header = next(gradebook_csv(*db))
    assert header == [h for c in gradebook_columns(course) for h in c.csv_headers]
    assert [c.label for c in gradebook_columns(course)][1:-3] == [
        e.title for e in course.exercises]


@pytest.mark.parametrize(("cell", "expected"), [
    ("=1+2", "'=1+2"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tTab", "'\tTab"), ("\rCR", "'\rCR"), ("Zoë", "Zoë"), ("a=b", "a=b"), ("", ""),
    ("x;=cmd|' /C calc'!A0;", "x;'=cmd|' /C calc'!A0;"), ("a,+1", "a,'+1"),
    ("a; -1", "a; '-1"), ('a;"@x"', "a;\"'@x\""), ("Anne-Marie", "Anne-Marie"),
    ("a\n=1", "a\n'=1"), ("a,\t1", "a,'\t1"),
    # after a tab or CR inside the cell, and full-width forms (read after NFKC)
    ("X45\t=1+1", "X45\t'=1+1"), ("X45\r=1+1", "X45\r'=1+1"), ("a\t\t@x", "a\t'\t'@x"),
    ("\uff1d1+1", "'=1+1"), ("\uff0bSUM(A1)", "'+SUM(A1)"), ("\uff0d2", "'-2"),
    ("\uff20cmd", "'@cmd"), ("x\uff1b=1", "x;'=1"), ("x\uff0c\uff1d1", "x,'=1"),
    ("\ufe661+1", "'=1+1"), ("Ｚｏë", "Zoë"),
])
def test_neutralise_quotes_cells_a_spreadsheet_would_run(cell, expected):
    assert neutralise(cell) == expected


def test_csv_text_starts_with_a_bom_and_quotes_cells():
    text = "".join(csv_text([["a", "b, c"], ["d\"e", "f"]], rows_per_chunk=1))
    assert text == '\ufeff"a","b, c"\r\n"d""e","f"\r\n'


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('=+-@\t\r\n,; "\'ab1'
                                             '\uff1d\uff0b\uff0d\uff20\uff0c\uff1b\ufe66')),
               max_size=12))
def test_no_piece_of_a_neutralised_cell_starts_a_formula(cell):
    """Split however a spreadsheet might (comma, semicolon, line break, tab or not, quotes
    or not), full-width forms read as what they stand for: no piece begins with a formula
    character."""
    shown = unicodedata.normalize("NFKC", neutralise(cell))
    for pieces in (r"[,;\r\n]", r"[,;\t\r\n]"):
        for piece in re.split(pieces, shown):
            assert not piece.lstrip(' "').startswith(tuple("=+-@\t")), piece


def placements(course: Course, exercise_id: str, **moved: str) -> dict[str, Any]:
    answer = registry.model_answer(course.exercise(exercise_id))
    answer["placements"].update(moved)
    return answer


def test_misconceptions_share_correct_and_most_common_wrong_bucket_worst_first(db):
    session, course = db
    user = learner(session, "Ann")
    sort_items = course.exercise(SORT).spec.items
    hard, tricky = sort_items[0], sort_items[1]
    other = {"roadmap": "backlog", "backlog": "roadmap"}
    answers = [placements(course, SORT, **{hard.id: other[hard.bucket]}),
               placements(course, SORT, **{hard.id: other[hard.bucket],
                                           tricky.id: other[tricky.bucket]}),
               placements(course, SORT, **{hard.id: other[hard.bucket]}),
               placements(course, SORT)]
    for n, answer in enumerate(answers, start=1):
        attempt(session, user, SORT, n, 0.5, answer=answer)
    # Work that is not auto-graded never counts.
    attempt(session, user, SORT, 9, 0.5, status=AttemptStatus.REVIEWED,
            answer=placements(course, SORT, **{tricky.id: other[tricky.bucket]}))

    report = {r.exercise.id: r for r in misconceptions(session, course)}
    assert [r.exercise.kind for r in report.values()] == [
        e.kind for e in course.exercises if e.kind != "review"]
    sort_report = report[SORT]
    assert sort_report.attempts == 4
    first, second = sort_report.items[:2]
    labels = {b.id: b.label for b in course.exercise(SORT).spec.buckets}
    assert (first.id, first.correct_share, first.wrong, first.wrong_share) == (
        hard.id, 0.25, labels[other[hard.bucket]], 0.75)
    assert (second.id, second.correct_share, second.wrong_share) == (tricky.id, 0.75, 0.25)
    assert all(i.correct_share == 1 and i.wrong is None for i in sort_report.items[2:])
    assert len(sort_report.items) == len(sort_items)
    assert report[QUIZ].items == []


def test_misconceptions_quiz_counts_exact_answers_and_the_most_chosen_wrong_option(db):
    session, course = db
    user = learner(session, "Ann")
    quiz = course.exercise(QUIZ)
    single = next(q for q in quiz.spec.questions if q.type == "single")
    multiple = next(q for q in quiz.spec.questions if q.type == "multiple")
    wrong_single = [o for o in single.options if not o.correct]
    wrong_multi = next(o for o in multiple.options if not o.correct)

    def answer(single_pick: str, multi_picks: list[str]) -> dict[str, Any]:
        choices = registry.model_answer(quiz)["choices"]
        choices.update({single.id: [single_pick], multiple.id: multi_picks})
        return {"choices": choices}

    right_multi = list(multiple.correct_ids)
    answers = [answer(wrong_single[0].id, right_multi),
               answer(wrong_single[0].id, [*right_multi, wrong_multi.id]),
               answer(wrong_single[1].id, right_multi[:1]),
               answer(single.correct_ids[0], right_multi)]
    for n, a in enumerate(answers, start=1):
        attempt(session, user, QUIZ, n, 0.5, answer=a)

    items = {i.id: i for i in next(r for r in misconceptions(session, course)
                                   if r.exercise.id == QUIZ).items}
    assert (items[single.id].correct_share, items[single.id].wrong,
            items[single.id].wrong_share) == (0.25, wrong_single[0].text, 0.5)
    # Missing a right option or ticking a wrong one is not full credit.
    expected_multi = 0.5 if len(right_multi) > 1 else 0.75
    assert items[multiple.id].correct_share == expected_multi
    assert (items[multiple.id].wrong, items[multiple.id].wrong_share) == (wrong_multi.text, 0.25)
    worst = next(r for r in misconceptions(session, course)
                 if r.exercise.id == QUIZ).items[0]
    assert worst.id == single.id


def test_a_stacked_bar_draws_only_segments_with_attempts_but_lists_every_one():
    from course.services.charts import stacked_bar

    bar = stacked_bar([Segment("right", 0, right=True), Segment("Backlog", 3),
                       Segment("Roadmap", 1)], total=4, answered=4)
    assert bar.rects == (("chart-seg chart-seg-1", "0", "225.0"),
                         ("chart-seg chart-seg-2", "225.0", "75.0"))
    assert [(label, numbers) for _, label, _, numbers in bar.rows] == [
        ("Right", "0 (0%)"), ("Backlog", "3 (75%)"), ("Roadmap", "1 (25%)")]
    assert bar.spoken == "right (right) 0 of 4; Backlog 3 of 4; Roadmap 1 of 4"
