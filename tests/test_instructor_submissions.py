"""The submissions queue, the submission page and its review form, regrade, who may reach
them, and what the learner sees of a review."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from course import create_app
from course.db import get_session
from course.models import Attempt, Role, ScoreChange, User
from tests.helpers import AuthActions, count_queries, csrf_token, make_user
from tests.review_factories import (
    SORT,
    VISION,
    VISION_ANSWER,
    bulk_attempts,
    copy_course,
    edit_file,
    sort_form,
    submit,
)

RUBRIC = {"rubric-vision-short-aspirational": "2", "rubric-strategy-how-who-value": "2",
          "rubric-choices-not-features": "1", "rubric-vision-strategy-distinct": "1"}
ROW_LINK = re.compile(r'<td data-label="Learner"><a href="/instructor/submissions/(\d+)[?"]')
EVERY = "/instructor/submissions?status=&order=newest"


def _instructor_routes() -> list[tuple[str, str]]:
    """Every (method, rule) under /instructor, including pages other modules add."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    return sorted({(method, rule.rule) for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/instructor")
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


INSTRUCTOR_ROUTES = _instructor_routes()


def _url(rule: str, attempt_id: int) -> str:
    """A concrete URL for `rule`: real ids where the rule takes one."""
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter in ("int", "id") or (name.endswith("_id") and "attempt" in name):
            return str(attempt_id)
        return SORT if "exercise" in name else "x"
    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)


def _review(client, attempt_id, revision=1, **fields):
    data = {"csrf_token": csrf_token(client, f"/instructor/submissions/{attempt_id}"),
            "revision": str(revision), "feedback": "", "override": "", "reason": ""}
    data.update(fields)
    return client.post(f"/instructor/submissions/{attempt_id}", data=data)


def _release(client, attempt_id):
    return client.post(f"/instructor/submissions/{attempt_id}/release",
                       data={"csrf_token": csrf_token(client, "/")})


def _attempt(app, attempt_id) -> Attempt:
    with app.app_context():
        return get_session().get(Attempt, attempt_id)


def _changes(app, attempt_id) -> list[ScoreChange]:
    with app.app_context():
        return list(get_session().scalars(select(ScoreChange).where(
            ScoreChange.attempt_id == attempt_id)))


@pytest.fixture
def learner_id(app) -> int:
    return make_user(app, "lee@example.com", "Lee Learner").id


# ---------------------------------------------------------------------------- access


@pytest.mark.parametrize(("method", "rule"), INSTRUCTOR_ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(app, client, learner_id, method, rule):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    data = {"csrf_token": csrf_token(client)} if method == "POST" else None
    response = client.open(_url(rule, attempt_id), method=method, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin")


@pytest.mark.parametrize(("method", "rule"), INSTRUCTOR_ROUTES)
def test_learners_get_403_on_every_instructor_page(app, auth, client, method, rule):
    learner = auth.learner()
    attempt_id = submit(app, learner.id, VISION, VISION_ANSWER)
    data = {"csrf_token": csrf_token(client, "/"), "revision": "1", **RUBRIC,
            "feedback": "I graded myself", "override": "100", "reason": "me"}
    response = client.open(_url(rule, attempt_id), method=method,
                           data=data if method == "POST" else None)
    assert response.status_code == 403
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.score, attempt.revision) == ("awaiting_review", None, 1)


def test_the_route_list_covers_the_review_pages():
    rules = {rule for _, rule in INSTRUCTOR_ROUTES}
    assert {"/instructor/submissions", "/instructor/submissions/<id:attempt_id>",
            "/instructor/exercises/<exercise_id>/regrade"} <= rules


def test_a_learner_cannot_open_another_learners_attempt(app, auth, client):
    other = make_user(app, "other@example.com", "Other Learner")
    theirs = submit(app, other.id, VISION, VISION_ANSWER)
    auth.learner()
    assert client.get(f"/attempts/{theirs}").status_code == 404
    assert client.get(f"/instructor/submissions/{theirs}").status_code == 403


@pytest.mark.parametrize("field", [{"role": "instructor"}, {"is_instructor": "1"},
                                   {"role": "instructor", "is_instructor": "1"}])
def test_no_form_grants_the_instructor_role(app, client, field):
    auth = AuthActions(client, app)
    client.post("/signup", data={
        "csrf_token": csrf_token(client, "/signup"), "email": "sneaky@example.com",
        "display_name": "Sneaky", "password": "correct horse battery",
        "confirm": "correct horse battery", **field})
    token = csrf_token(client, "/")
    client.post("/signin", data={"csrf_token": token, "email": "sneaky@example.com",
                                 "password": "correct horse battery", **field})
    client.post("/lessons/what-is-product-management/complete",
                data={"csrf_token": token, "done": "1", **field})
    client.post(f"/exercises/{VISION}", data={"csrf_token": token, **field,
                                              **{k: v[0] for k, v in VISION_ANSWER.items()}})
    with app.app_context():
        user = get_session().scalar(select(User).where(User.email == "sneaky@example.com"))
        assert user.role == Role.LEARNER.value
    assert client.get("/instructor/submissions").status_code == 403
    auth.sign_out()


# ----------------------------------------------------------------------------- queue


def test_queue_opens_on_the_work_list_awaiting_review_oldest_first(app, auth, client,
                                                                    learner_id):
    old = submit(app, learner_id, VISION, VISION_ANSWER)
    submit(app, learner_id, SORT, sort_form(app, wrong=3))
    # A learner's work awaiting review cannot be replaced, so the newer one is another's.
    new = submit(app, make_user(app, "sam@example.com", "Sam Second").id, VISION,
                 VISION_ANSWER)
    auth.instructor()
    html = client.get("/instructor/submissions").get_data(as_text=True)
    assert [int(i) for i in ROW_LINK.findall(html)] == [old, new]
    assert '<option selected value="awaiting_review">' in html
    assert '<option selected value="oldest">' in html
    # Each row's link carries the list's filters, so the page can lead back to it.
    assert (f'href="/instructor/submissions/{old}?exercise=&amp;status=awaiting_review'
            f'&amp;learner=&amp;order=oldest"') in html


def test_queue_lists_every_submission_newest_first(app, auth, client, learner_id):
    first = submit(app, learner_id, SORT, sort_form(app, wrong=3))
    second = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    html = client.get(EVERY).get_data(as_text=True)
    assert [int(i) for i in ROW_LINK.findall(html)] == [second, first]
    assert "Lee Learner" in html and "lee@example.com" in html
    assert "Write a vision and a strategy" in html and "Roadmap or backlog?" in html
    assert "Awaiting review" in html and "Auto-graded" in html
    assert "#1" in html
    assert re.search(r'<td data-label="Score">\d+%</td>', html)
    assert '<td data-label="Score">not graded yet</td>' in html
    assert 'name="status"' in html and 'method="get"' in html


def test_queue_empty_state(auth, client):
    auth.instructor()
    html = client.get("/instructor/submissions").get_data(as_text=True)
    assert "Nothing awaits review" in html
    html = client.get(EVERY).get_data(as_text=True)
    assert "No submissions yet" in html
    html = client.get("/instructor/submissions?status=reviewed").get_data(as_text=True)
    assert "No submissions match these filters" in html


def test_queue_filters(app, auth, client):
    ann = make_user(app, "ann.smith@example.com", "Ann Smith").id
    bob = make_user(app, "bob@work.example", "Bob 100% Jones").id
    ann_sort = submit(app, ann, SORT, sort_form(app))
    ann_vision = submit(app, ann, VISION, VISION_ANSWER)
    bob_vision = submit(app, bob, VISION, VISION_ANSWER)
    auth.instructor()

    def ids(query: str) -> set[int]:
        response = client.get(f"/instructor/submissions?{query}")
        assert response.status_code == 200
        return {int(i) for i in ROW_LINK.findall(response.get_data(as_text=True))}

    assert ids(f"exercise={VISION}") == {ann_vision, bob_vision}
    assert ids("status=awaiting_review") == {ann_vision, bob_vision}
    assert ids("status=auto_graded") == {ann_sort}
    assert ids("status=reviewed") == set()
    assert ids("learner=SMITH") == {ann_sort, ann_vision}  # name, any case
    assert ids("learner=work.EXAMPLE") == {bob_vision}  # email
    assert ids("learner=100%25") == {bob_vision}  # % is a character, not a wildcard
    assert ids("learner=_") == set()
    assert ids(f"learner=ann&exercise={SORT}&status=auto_graded") == {ann_sort}
    assert ids("exercise=&status=&learner=") == {ann_sort, ann_vision, bob_vision}
    assert ids("") == {ann_vision, bob_vision}  # the default: awaiting review


@pytest.mark.parametrize("query", ["exercise=nope", "status=deleted", "learner=" + "x" * 101,
                                   "order=sideways",
                                   "after=garbage", "before=2026-01-01T00:00:00_x"])
def test_queue_refuses_bad_parameters(auth, client, query):
    auth.instructor()
    assert client.get(f"/instructor/submissions?{query}").status_code == 400


def _walk(client, url: str, link: str) -> list[list[int]]:
    """Follow the Older (or Newer) links from `url`; the ids on every page."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append([int(i) for i in ROW_LINK.findall(html)])
        found = re.search(rf'<a rel="{link}"[^>]*href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 20, "pagination does not end"
    return pages


def test_keyset_pagination_has_no_gaps_or_duplicates(make_app):
    app = make_app(QUEUE_PAGE_SIZE=5)
    client = app.test_client()
    learner = make_user(app).id
    ids = bulk_attempts(app, learner, 9)
    # Four submitted in the same instant: the id breaks the tie.
    ids += bulk_attempts(app, learner, 4, start=datetime(2026, 1, 1, 9, 0, 4), same_time=True)
    AuthActions(client, app).instructor()
    newest_first = sorted(ids, key=lambda i: (_attempt(app, i).created_at, i), reverse=True)

    pages = _walk(client, EVERY, "next")
    assert [len(p) for p in pages] == [5, 5, 3]
    assert [i for page in pages for i in page] == newest_first
    oldest = _walk(client, "/instructor/submissions", "next")
    assert [i for page in oldest for i in page] == newest_first[::-1]

    # Back from the last page through the Newer links: the same pages in reverse.
    last = client.get(EVERY).get_data(as_text=True)
    older = re.search(r'<a rel="next"[^>]*href="([^"]+)"', last).group(1).replace("&amp;", "&")
    deep = re.search(r'<a rel="next"[^>]*href="([^"]+)"',
                     client.get(older).get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert _walk(client, deep, "prev") == pages[::-1]

    # A deep page stays the same when new work arrives at the top.
    bulk_attempts(app, learner, 3, start=datetime(2026, 2, 1))
    assert _walk(client, deep, "next") == [pages[2]]
    assert 'rel="prev"' in client.get(deep).get_data(as_text=True)


def test_pagination_keeps_the_filters(make_app):
    app = make_app(QUEUE_PAGE_SIZE=2)
    client = app.test_client()
    learner = make_user(app).id
    wanted = bulk_attempts(app, learner, 5)
    bulk_attempts(app, learner, 5, exercise_id=SORT, status="auto_graded",
                  start=datetime(2026, 1, 2))
    AuthActions(client, app).instructor()
    pages = _walk(client, f"/instructor/submissions?exercise={VISION}&status=awaiting_review",
                  "next")
    assert sorted(i for p in pages for i in p) == wanted


def test_a_learner_filter_pages_alike_whether_few_or_many_learners_match(make_app,
                                                                          monkeypatch):
    """Few matching learners: their attempts read by learner; many: the queue's index
    walked. Both give the same pages, both ways, and the same neighbours on a submission."""
    from course.services import submissions

    app = make_app(QUEUE_PAGE_SIZE=4)
    client = app.test_client()
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(3)]
    other = make_user(app, "someone@example.com", "Someone Else").id
    for n, who in enumerate([*people, other]):
        bulk_attempts(app, who, 5, start=datetime(2026, 1, 1) + timedelta(minutes=n))
    AuthActions(client, app).instructor()
    url = "/instructor/submissions?status=&order=newest&learner=person"

    def walk_and_neighbours() -> tuple[list[list[int]], list[list[int]], list[str]]:
        pages = _walk(client, url, "next")
        html = client.get(f"/instructor/submissions/{pages[1][1]}?status=&order=newest"
                          "&learner=person").get_data(as_text=True)
        place = re.findall(r'rel="(?:prev|next)"[^>]*href="([^"]+)"|(\d+ more after)', html)
        return pages, _walk(client, url.replace("newest", "oldest"), "next"), place

    few = walk_and_neighbours()
    monkeypatch.setattr(submissions, "FEW_LEARNERS", 0)
    many = walk_and_neighbours()
    assert few == many and len(few[2]) == 3  # previous, next, how many after
    mine = {i for page in few[0] for i in page}
    assert len(mine) == 15 and [i for p in few[0] for i in p] == sorted(
        mine, key=lambda i: (_attempt(app, i).created_at, i), reverse=True)
    assert [i for p in few[1] for i in p] == [i for p in few[0] for i in p][::-1]


def test_queue_query_count_is_constant(make_app):
    app = make_app(QUEUE_PAGE_SIZE=5)
    client = app.test_client()
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(6)]
    for n, person in enumerate(people):
        bulk_attempts(app, person, 10, start=datetime(2026, 1, 1) + timedelta(hours=n))
    AuthActions(client, app).instructor()
    pages = []
    url = EVERY
    for _ in range(6):
        with count_queries(app) as first:
            html = client.get(url).get_data(as_text=True)
        pages.append(len(first))
        url = re.search(r'<a rel="next"[^>]*href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert len(set(pages)) == 1, pages
    assert pages[0] <= 3  # the signed-in user, the page of attempts with their learners
    with count_queries(app) as filtered:
        client.get("/instructor/submissions?learner=person&status=awaiting_review")
    assert len(filtered) == pages[0]


# ------------------------------------------------------------------ submission page


def test_submission_page_shows_the_answer_and_the_review_form(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    html = client.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "Lee Learner" in html
    assert "<strong>without</strong>" in html  # the learner's Markdown, rendered
    assert "<li>Grocer delivery</li>" in html
    assert 'name="revision" type="hidden" value="1"' in html
    for criterion in RUBRIC:
        assert f'name="{criterion}"' in html
    assert "One brief, memorable sentence" in html  # level descriptions
    assert 'name="feedback"' in html and 'name="override"' in html and 'name="reason"' in html
    assert "Score history" in html and "attempts at this exercise" in html


def test_submission_page_for_an_auto_graded_board(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, SORT, sort_form(app, wrong=2))
    auth.instructor()
    html = client.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "Automatic score" in html
    assert "Households plan a week of dinners" in html  # a card, in place on the board
    assert "belongs in" in html  # instructors see where wrong items belong
    assert 'name="rubric-' not in html


def test_submission_page_lists_other_attempts_and_history(app, auth, client, learner_id):
    first = submit(app, learner_id, SORT, sort_form(app, wrong=5))
    second = submit(app, learner_id, SORT, sort_form(app))
    auth.instructor()
    _review(client, first, override="70", reason="Partly right on item 4.")
    _release(client, first)
    html = client.get(f"/instructor/submissions/{second}").get_data(as_text=True)
    assert f'href="/instructor/submissions/{first}"' in html
    html = client.get(f"/instructor/submissions/{first}").get_data(as_text=True)
    assert "Partly right on item 4." in html and "Ines Instructor" in html
    assert "→ <strong>70%</strong>" in html
    assert 'name="override" step="any" type="number" value="70"' in html  # kept in the form
    assert "Partly right on item 4.</textarea>" in html


def test_unknown_ids_are_404(auth, client):
    auth.instructor()
    assert client.get("/instructor/submissions/424242").status_code == 404
    assert _review(client, 424242).status_code == 404
    response = client.post("/instructor/exercises/nope/regrade",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 404


def test_saving_a_rubric_review_keeps_a_draft_until_it_is_released(app, auth, client,
                                                                    learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    teacher = auth.instructor()
    response = _review(client, attempt_id, feedback="Great **vision**.", then="stay", **RUBRIC)
    assert response.status_code == 303
    assert f"/instructor/submissions/{attempt_id}?" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Review saved as a draft" in html
    attempt = _attempt(app, attempt_id)
    # The learner's side of the attempt is untouched: nothing of a draft shows.
    assert (attempt.status, attempt.score, attempt.reviewer_id, attempt.instructor_feedback,
            attempt.feedback_unread) == ("awaiting_review", None, None, None, False)
    assert attempt.draft["score"] == 0.75 and attempt.draft_by_id == teacher.id
    assert _changes(app, attempt_id) == []
    assert 'name="revision" type="hidden" value="2"' in html
    assert 'checked data-points="2" id="rubric-vision-short-aspirational-0"' in html
    assert 'checked data-points="1" id="rubric-choices-not-features-1"' in html
    assert "Draft review (not released)" in html and "Release this review" in html
    assert '<output id="running-total" data-max="8" aria-live="polite">6 of 8 points' in html

    assert _release(client, attempt_id).status_code == 303
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.score, attempt.reviewer_id) == ("reviewed", 0.75, teacher.id)
    assert attempt.instructor_feedback == "Great **vision**."
    assert attempt.draft is None and attempt.released_at is not None
    [change] = _changes(app, attempt_id)
    assert (change.kind, change.old_score, change.new_score) == ("review", None, 0.75)
    html = client.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "Review released" in html and "Release this review" not in html


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "Choose a level for"),
    ({**RUBRIC, "rubric-choices-not-features": "7"}, "Not a valid choice"),
    ({**RUBRIC, "override": "85"}, "Give a reason for overriding the score."),
    ({**RUBRIC, "override": "85", "reason": "   "}, "Give a reason for overriding"),
    ({**RUBRIC, "override": "150", "reason": "x"}, "Enter a score from 0 to 100."),
    ({**RUBRIC, "override": "nan", "reason": "x"}, "Enter a score from 0 to 100."),
    ({**RUBRIC, "override": "lots", "reason": "x"}, "Not a valid float value"),
    ({**RUBRIC, "feedback": "x" * 10_001}, "Keep the feedback under"),
    ({**RUBRIC, "revision": "abc"}, "Not a valid integer value"),
])
def test_bad_review_input_is_400_and_stores_nothing(app, auth, client, learner_id, fields,
                                                    message):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    response = _review(client, attempt_id, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    attempt = _attempt(app, attempt_id)
    assert (attempt.status, attempt.score, attempt.revision, attempt.instructor_feedback) == (
        "awaiting_review", None, 1, None)
    assert _changes(app, attempt_id) == []


def test_a_review_without_the_csrf_token_is_refused(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    response = client.post(f"/instructor/submissions/{attempt_id}",
                           data={"revision": "1", **RUBRIC})
    assert response.status_code == 400
    assert _attempt(app, attempt_id).revision == 1


def test_overriding_an_auto_graded_score_is_audited(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, SORT, sort_form(app, wrong=6))
    teacher = auth.instructor()
    response = _review(client, attempt_id, override="82.5", reason="Items 2 and 5 were unclear.")
    assert response.status_code == 303
    assert _release(client, attempt_id).status_code == 303
    attempt = _attempt(app, attempt_id)
    assert (attempt.score, attempt.overridden, attempt.passed) == (0.825, True, True)
    [change] = _changes(app, attempt_id)
    assert (change.changed_by_id, change.kind, change.new_score) == (teacher.id, "override",
                                                                      0.825)
    assert change.old_score == attempt.auto_score
    assert change.reason == "Items 2 and 5 were unclear."
    assert abs(change.changed_at - datetime.utcnow()) < timedelta(minutes=1)


def test_two_instructors_saving_at_once_the_second_gets_409(app, learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    make_user(app, "a@example.com", "Ada First", Role.INSTRUCTOR)
    make_user(app, "b@example.com", "Ben Second", Role.INSTRUCTOR)
    first, second = app.test_client(), app.test_client()
    AuthActions(first, app).sign_in("a@example.com")
    AuthActions(second, app).sign_in("b@example.com")
    # Both open the page at revision 1.
    first_token = csrf_token(first, f"/instructor/submissions/{attempt_id}")
    second_token = csrf_token(second, f"/instructor/submissions/{attempt_id}")

    saved = first.post(f"/instructor/submissions/{attempt_id}", data={
        "csrf_token": first_token, "revision": "1", **RUBRIC, "feedback": "Ada's notes."})
    assert saved.status_code == 303
    late = second.post(f"/instructor/submissions/{attempt_id}", data={
        "csrf_token": second_token, "revision": "1",
        **dict.fromkeys(RUBRIC, "0"), "feedback": "Ben's <b>draft</b>."})

    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Another instructor saved this submission while you were editing." in html
    assert "Ada&#39;s notes." in html  # their saved feedback, in the form
    assert "Ben&#39;s &lt;b&gt;draft&lt;/b&gt;." in html  # the loser's draft, kept visible
    assert 'name="revision" type="hidden" value="2"' in html
    attempt = _attempt(app, attempt_id)
    assert (attempt.draft["feedback"], attempt.draft["score"], attempt.revision) == (
        "Ada's notes.", 0.75, 2)


def test_learner_text_is_never_rendered_raw_for_instructors(app, auth, client):
    learner = make_user(app, "x@example.com", '<script>alert("name")</script>').id
    attempt_id = submit(app, learner, VISION, {
        "r-vision": ['<script>alert("x")</script> **bold** <img src=x onerror=alert(1)>'],
        "r-strategy": ['<a href="javascript:alert(2)" onclick="alert(3)">link</a>']})
    auth.instructor()
    for url in ("/instructor/submissions", f"/instructor/submissions/{attempt_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "onerror=" not in html and "onclick=" not in html
        assert "javascript:alert" not in html
        assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html


# --------------------------------------------------------------------------- regrade


def test_regrade_page_lists_changed_scores_and_kept_overrides(make_app, tmp_path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    lee = make_user(before, "lee@example.com", "Lee Learner").id
    ola = make_user(before, "ola@example.com", "Ola Override").id
    changed = submit(before, lee, SORT, sort_form(before))
    overridden = submit(before, ola, SORT, sort_form(before))
    edit_file(content / "exercises" / "roadmap-or-backlog.yaml",
              lambda t: t.replace("bucket: roadmap", "bucket: backlog", 1))
    after = make_app(COURSE_CONTENT_DIR=str(content))
    client = after.test_client()
    AuthActions(client, after).instructor()
    # Ola's score was fixed by hand before the key changed (on the old version's score).
    assert _review(client, overridden, override="100", reason="Agreed.").status_code == 303
    assert _release(client, overridden).status_code == 303

    queue = client.get(f"/instructor/submissions?exercise={SORT}").get_data(as_text=True)
    assert f'href="/instructor/exercises/{SORT}/regrade"' in queue
    # First a preview that changes nothing, then the confirmed regrade.
    preview = client.get(f"/instructor/exercises/{SORT}/regrade")
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert re.search(r"<strong>2</strong> attempts would be regraded", text)
    assert re.search(r"<strong>1</strong> counted score would change", text)
    assert re.search(r"<strong>1</strong> override would be kept", text)
    assert "Lee Learner" in text and ">Regrade: change 1 score</button>" in text
    assert _attempt(after, changed).score == 1.0
    response = client.post(f"/instructor/exercises/{SORT}/regrade",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1 score changed" in html and "1 override kept" in html
    changed_section = html.split('id="changed-title"')[1].split('id="kept-title"')[0]
    assert "Lee Learner" in changed_section and "100%" in changed_section
    assert "Ola Override" not in changed_section
    assert "Ola Override" in html.split('id="kept-title"')[1]
    assert _attempt(after, overridden).score == 1.0
    assert _attempt(after, changed).score < 1.0


def test_regrade_needs_a_post_with_csrf_and_an_auto_graded_exercise(auth, client):
    auth.instructor()
    assert client.post(f"/instructor/exercises/{SORT}/regrade").status_code == 400
    assert client.get(f"/instructor/exercises/{VISION}/regrade").status_code == 400
    response = client.post(f"/instructor/exercises/{VISION}/regrade",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 400


# ------------------------------------------------------------------- query counts


def test_submission_page_query_count_does_not_grow(make_app):
    app = make_app()
    client = app.test_client()
    auth = AuthActions(client, app)
    auth.instructor()
    counts = []
    for n, size in enumerate((5, 50)):
        learner = make_user(app, f"l{n}@example.com", f"Learner {n}").id
        ids = bulk_attempts(app, learner, size)
        for attempt_id in ids[:3]:  # some score history too
            _review(client, attempt_id, **RUBRIC, override="90", reason="History.")
            _release(client, attempt_id)
        with count_queries(app) as statements:
            assert client.get(f"/instructor/submissions/{ids[0]}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    # user, attempt, attempts, history; the queue's previous, next and remaining count
    assert counts[0] <= 7


# ------------------------------------------------------------------- learner side


def test_learner_reads_feedback_and_the_new_feedback_badge_clears(app, client):
    lee = make_user(app, "lee@example.com", "Lee Learner")
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    learner = AuthActions(client, app)
    learner.sign_in("lee@example.com")
    attempt_id = submit(app, lee.id, VISION, VISION_ANSWER)
    assert "New feedback" not in client.get("/progress").get_data(as_text=True)

    teacher = app.test_client()
    AuthActions(teacher, app).sign_in("teacher@example.com")
    _review(teacher, attempt_id, **RUBRIC,
            feedback="Strong vision. <script>alert(1)</script> Try **fewer** features.")
    # A draft: the learner sees nothing of it, neither score, feedback nor badge.
    assert "New feedback" not in client.get("/progress").get_data(as_text=True)
    draft_page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Awaiting review" in draft_page
    assert "Strong vision" not in draft_page and "75%" not in draft_page
    assert _release(teacher, attempt_id).status_code == 303

    progress = client.get("/progress").get_data(as_text=True)
    assert "New feedback" in progress
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Reviewed by <strong>Ines Instructor</strong>" in html
    assert "<strong>Strong</strong> · 2 of 2 points" in html
    assert "<strong>Some overlap</strong> · 1 of 2 points" in html
    review = html[html.index('class="instructor-feedback"'):html.index('id="self-assessment"')]
    assert "Clearly distinct" not in review  # only the levels chosen (the learner's own
    assert "<strong>fewer</strong>" in html  # self-assessment form lists every level)
    assert "<script>alert(1)" not in html
    assert "75%" in html
    assert "New feedback" not in html  # the header of the page that was the reading
    assert "New feedback" not in client.get("/progress").get_data(as_text=True)
    assert not _attempt(app, attempt_id).feedback_unread


# ------------------------------------------------------------- grading in a row


def _queue_links(html: str) -> dict[str, str]:
    return {rel: url.replace("&amp;", "&") for rel, url in
            re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html)}


def test_save_and_next_walks_the_queue_in_its_order_keeping_the_filters(app, auth, client):
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(3)]
    ids = [submit(app, person, VISION, VISION_ANSWER) for person in people]
    submit(app, people[0], SORT, sort_form(app))  # auto-graded: not in the work list
    auth.instructor()
    queue = f"exercise={VISION}&status=awaiting_review&learner=&order=oldest"
    html = client.get(f"/instructor/submissions/{ids[0]}?{queue}").get_data(as_text=True)
    assert "2 more after this one" in html
    links = _queue_links(html)
    assert "prev" not in links and links["next"].startswith(f"/instructor/submissions/{ids[1]}?")
    assert f"/instructor/submissions?exercise={VISION}&status=awaiting_review" in html.replace(
        "&amp;", "&")  # back to the list, as it was filtered

    for n, attempt_id in enumerate(ids):
        response = client.post(f"/instructor/submissions/{attempt_id}?{queue}", data={
            "csrf_token": csrf_token(client, f"/instructor/submissions/{attempt_id}"),
            "revision": "1", **RUBRIC, "feedback": f"Review {n}", "then": "next"})
        assert response.status_code == 303
        location = response.headers["Location"]
        if n < 2:
            assert location.startswith(f"/instructor/submissions/{ids[n + 1]}?")
            assert "status=awaiting_review" in location and f"exercise={VISION}" in location
            page = client.get(location).get_data(as_text=True)
            assert f"{1 - n} more after this one" in page
            # The one just saved has left the work list; "previous" skips it.
            assert "prev" not in _queue_links(page)
        else:
            assert location.startswith("/instructor/submissions?")
            assert "That was the last submission in this list" in client.get(
                location).get_data(as_text=True)
    assert [_attempt(app, i).draft["feedback"] for i in ids] == [
        "Review 0", "Review 1", "Review 2"]


def test_release_all_drafts_of_an_exercise_from_the_queue(app, auth, client):
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(2)]
    ids = [submit(app, person, VISION, VISION_ANSWER) for person in people]
    auth.instructor()
    for attempt_id in ids:
        assert _review(client, attempt_id, **RUBRIC).status_code == 303
    html = client.get(f"/instructor/submissions?exercise={VISION}&status=draft").get_data(
        as_text=True)
    assert {int(i) for i in ROW_LINK.findall(html)} == set(ids)
    assert "2 draft reviews of" in html and ">Release 2 reviews</button>" in html
    response = client.post(f"/instructor/exercises/{VISION}/release?exercise={VISION}",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    assert ("2 reviews of \u201cWrite a vision and a strategy\u201d released: the learners "
            "can see them now.") in client.get(response.headers["Location"]).get_data(
                as_text=True)
    assert all(_attempt(app, i).status == "reviewed" for i in ids)
    assert client.post(f"/instructor/exercises/{VISION}/release").status_code == 400
    assert client.post("/instructor/exercises/nope/release",
                       data={"csrf_token": csrf_token(client, "/")}).status_code == 404


def test_a_failed_save_shows_the_error_at_the_top_and_keeps_what_was_typed(
        app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, SORT, sort_form(app, wrong=4))
    auth.instructor()
    response = _review(client, attempt_id, override="90", feedback="Careful *notes* I typed.")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html.index('id="error-summary"')
    assert summary < html.index('id="answer-title"')  # before the answer: at the top
    assert "autofocus" in html[summary - 200:summary + 200]
    assert '<a href="#reason">Give a reason for overriding the score.</a>' in html
    assert "Careful *notes* I typed.</textarea>" in html
    assert 'value="90"' in html


def test_instructor_pages_speak_about_the_learner(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    html = client.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "The learner\u2019s vision statement" in html
    assert "Your vision statement" not in html
    assert "<strong>Not graded yet</strong>" in html and "not passed" not in html
    # Rubric levels run best first, as the learner sees them on the exercise page.
    strong = html.index("<strong>Strong</strong>")
    assert strong < html.index("<strong>Partly there</strong>") < html.index(
        "<strong>Missing or not a vision</strong>")


def test_the_tab_title_names_the_learner_and_the_exercise(app, auth, client, learner_id):
    attempt_id = submit(app, learner_id, VISION, VISION_ANSWER)
    auth.instructor()
    html = client.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert (f"<title>Lee Learner \u00b7 Write a vision and a strategy \u00b7 Submission "
            f"{attempt_id} \u00b7 Course</title>") in html


def test_a_regrade_preview_that_changes_no_score_says_so(app, auth, client, learner_id):
    submit(app, learner_id, SORT, sort_form(app, wrong=1))
    auth.instructor()
    html = client.get(f"/instructor/exercises/{SORT}/regrade").get_data(as_text=True)
    assert '<h2 id="changed-title">No score would change</h2>' in html
    assert "only refresh the automatic feedback the learner sees on 1 attempt" in html
    assert ">Refresh the feedback only</button>" in html
    assert "Regrade 1 attempt" not in html and "Regrade: change" not in html


# ------------------------------------------------------------------ learner page


def test_learner_page_shows_progress_attempts_and_reviews(app, auth, client, learner_id):
    vision = submit(app, learner_id, VISION, VISION_ANSWER)
    sort = submit(app, learner_id, SORT, sort_form(app, wrong=6))
    auth.instructor()
    _review(client, sort, override="90", reason="Item 3 was ambiguous.")
    _release(client, sort)
    _review(client, vision, **RUBRIC)  # a draft
    for page in (f"/instructor/submissions/{vision}", EVERY, "/instructor/gradebook"):
        assert f'href="/instructor/learners/{learner_id}"' in client.get(page).get_data(
            as_text=True), page
    html = client.get(f"/instructor/learners/{learner_id}").get_data(as_text=True)
    assert "Lee Learner" in html and "lee@example.com" in html
    # The learner's own standing (services.standing), plus what only an instructor sees.
    assert "<td>Awaiting release</td>" in html  # the written work: graded, not released
    assert "<td>Passed</td>" in html  # the override passed the sort exercise
    assert "Item 3 was ambiguous." in html and "Override released" in html
    assert f'href="/instructor/submissions/{vision}">#1</a>' in html
    assert "not graded yet" in html
    assert "Last activity" in html and "none yet" not in html


def test_learner_page_query_count_does_not_grow(make_app):
    app = make_app()
    client = app.test_client()
    AuthActions(client, app).instructor()
    counts = []
    for n, size in enumerate((3, 40)):
        learner = make_user(app, f"l{n}@example.com", f"Learner {n}").id
        ids = bulk_attempts(app, learner, size)
        for attempt_id in ids[:2]:
            _review(client, attempt_id, **RUBRIC)
            _release(client, attempt_id)
        with count_queries(app) as statements:
            assert client.get(f"/instructor/learners/{learner}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    # The signed-in user; learner, completion times, standing, attempts, history,
    # certificate.
    assert counts[0] <= 7


def test_learner_page_unknown_id_is_404(auth, client):
    auth.instructor()
    assert client.get("/instructor/learners/424242").status_code == 404


def test_the_count_after_this_one_stops_at_a_cap(app, auth, client, monkeypatch):
    """However long the queue, the count reads at most REMAINING_CAP index entries."""
    from course.services import submissions as queue_service

    monkeypatch.setattr(queue_service, "REMAINING_CAP", 2)
    people = [make_user(app, f"c{n}@example.com", f"Capped {n}").id for n in range(4)]
    ids = [submit(app, person, VISION, VISION_ANSWER) for person in people]
    auth.instructor()
    first = client.get(f"/instructor/submissions/{ids[0]}").get_data(as_text=True)
    assert "2 or more after this one" in first
    third = client.get(f"/instructor/submissions/{ids[2]}").get_data(as_text=True)
    assert "1 more after this one" in third


def test_self_assessment_beside_the_review_for_instructor_and_then_learner(app, client):
    """The instructor sees the learner's own level in each criterion while reviewing; the
    learner sees the instructor's levels beside their own once the review is released."""
    lee = make_user(app, "lee@example.com", "Lee Learner")
    make_user(app, "teacher@example.com", "Ines Instructor", Role.INSTRUCTOR)
    AuthActions(client, app).sign_in("lee@example.com")
    attempt_id = submit(app, lee.id, VISION, VISION_ANSWER)
    teacher = app.test_client()
    AuthActions(teacher, app).sign_in("teacher@example.com")
    page = teacher.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "The learner has not assessed their own work yet." in page
    assert "own assessment:" not in page

    own = {"self-vision-short-aspirational": "1", "self-strategy-how-who-value": "2",
           "self-choices-not-features": "0", "self-vision-strategy-distinct": "1"}
    url = f"/attempts/{attempt_id}/self-assessment"
    assert client.post(url, data={"csrf_token": csrf_token(client, f"/attempts/{attempt_id}"),
                                  **own}).status_code == 303

    page = teacher.get(f"/instructor/submissions/{attempt_id}").get_data(as_text=True)
    assert "their level is shown under each criterion (4 of 8 points)" in page
    vision = page[page.index('id="rubric-vision-short-aspirational"'):]
    vision = vision[:vision.index("</fieldset>")]
    assert ('aria-describedby="rubric-vision-short-aspirational-self rubric-keys"'
            in page)
    assert ('<p class="self-level" id="rubric-vision-short-aspirational-self">The learner\u2019s'
            ' own assessment: <strong>Partly there</strong> · 1 point</p>') in vision
    assert "own assessment: <strong>Complete</strong> · 2 points" in page

    # Reviewed (a draft): the learner sees only their own column until it is released.
    _review(teacher, attempt_id, **RUBRIC)
    learner_page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Your instructor</th>" not in learner_page
    assert _release(teacher, attempt_id).status_code == 303
    learner_page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    table = learner_page[learner_page.index('id="self-assessment"'):]
    table = table[:table.index("</table>")]
    assert "Your assessment</th>" in table and "Your instructor</th>" in table
    row = table[table.index("The vision is short"):]
    row = row[:row.index("</tr>")]
    assert "<strong>Partly there</strong> · 1 of 2" in row  # the learner's own
    assert "<strong>Strong</strong> · 2 of 2" in row  # the instructor's, beside it
