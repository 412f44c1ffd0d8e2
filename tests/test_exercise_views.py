"""Exercise pages through the test client: every bad input of the issue, double posts,
ownership, each kind end to end, and constant query counts."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from course.caches import app_caches
from course.db import get_session
from course.grading import registry
from course.models import Attempt
from course.site import get_course
from tests.helpers import count_queries, make_user

SORT = "roadmap-or-backlog"
NNL = "build-now-next-later"
QUIZ = "final-quiz"
REVIEW = "your-own-roadmap"
ENVELOPE = ("csrf_token", "exercise_version", "submission_token")
_INPUT = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def get_course_steps(app):
    with app.app_context():
        return get_course().steps


def exercise(app, step_id):
    with app.app_context():
        return get_course().exercise(step_id)


def envelope(client, step_id: str) -> dict[str, str]:
    """The hidden fields a browser would post back from the exercise page."""
    html = client.get(f"/exercises/{step_id}").get_data(as_text=True)
    fields = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("name") in ENVELOPE:
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    assert set(fields) == set(ENVELOPE), f"envelope missing on {step_id}"
    return fields


def correct_answer(ex) -> dict[str, list[str]]:
    """Answer fields for a full-marks (or, for reviews, complete) answer."""
    answer = registry.model_answer(ex)
    if ex.kind in ("sort", "now-next-later"):
        return {f"place-{k}": [v] for k, v in answer["placements"].items()}
    if ex.kind == "quiz":
        return {f"q-{k}": list(v) for k, v in answer["choices"].items()}
    fields: dict[str, list[str]] = {}
    for p in ex.spec.prompts:
        if p.format == "board":
            fields[f"card-{p.id}-column"] = ["now", "next", "later", "now"]
            fields[f"card-{p.id}-text"] = ["Plan in minutes", "Grocer sync", "Less waste", ""]
        else:
            fields[f"r-{p.id}"] = ["Nothing **dated** <script>alert(1)</script>"]
    return fields


def wrong_sort_answer(ex) -> dict[str, list[str]]:
    buckets = [b.id for b in ex.spec.buckets]
    return {f"place-{i.id}": [next(b for b in buckets if b != i.bucket)]
            for i in ex.spec.items}


def option_of_another(ex) -> str:
    """An option id that some question has but the first question does not."""
    first = {o.id for o in ex.spec.questions[0].options}
    return next(o.id for q in ex.spec.questions[1:] for o in q.options if o.id not in first)


def post(client, step_id, answer, **envelope_changes):
    """Post an answer as the exercise page would, with the last-attempt box ticked
    (test_last_attempt_needs_confirming checks what happens when it is not)."""
    data = {**envelope(client, step_id), "confirm_last": "y", **answer}
    data.update(envelope_changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/exercises/{step_id}", data=data)


def attempts_stored(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count(Attempt.id)))


def text_of(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


# ----------------------------------------------------------------- each kind works


@pytest.mark.parametrize("step_id", [SORT, NNL, QUIZ, REVIEW, "vision-or-strategy",
                                     "roadmap-or-delivery-plan", "write-a-product-vision"])
def test_anonymous_visitor_reads_the_exercise_and_is_asked_to_sign_in(client, step_id):
    response = client.get(f"/exercises/{step_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/signin?next=/exercises/{step_id}" in html
    assert "Submit answer" not in html
    assert "board.js" in html


def test_sort_board_follows_the_markup_contract(client, app):
    ex = exercise(app, SORT)
    html = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert "data-board data-columns='[{" in html
    item = ex.spec.items[0]
    assert f'<li class="card" data-item="{item.id}" id="card-{item.id}">' in html
    assert f'id="card-{item.id}-text"' in html
    for bucket in ex.spec.buckets:
        assert f'name="place-{item.id}" value="{bucket.id}"' in html
    assert 'aria-live="polite" id="board-status"' in html


def test_now_next_later_board_has_the_four_columns(client):
    html = client.get(f"/exercises/{NNL}").get_data(as_text=True)
    match = re.search(r"data-columns='([^']*)'", html)
    assert [c["id"] for c in json.loads(unescape(match.group(1)))] == [
        "now", "next", "later", "off"]


def test_review_board_has_nine_preset_rows(client):
    html = client.get(f"/exercises/{REVIEW}").get_data(as_text=True)
    assert 'data-text-board data-prompt="roadmap"' in html
    assert html.count('name="card-roadmap-text"') == 9
    assert 'name="r-notes"' in html


@pytest.mark.parametrize("step_id", [SORT, NNL, QUIZ, REVIEW])
def test_a_complete_answer_is_stored_and_shown(client, auth, app, step_id):
    auth.learner()
    ex = exercise(app, step_id)
    response = post(client, step_id, correct_answer(ex))
    assert response.status_code == 303
    assert re.fullmatch(r"/attempts/\d+", response.headers["Location"])
    page = client.get(response.headers["Location"])
    body = text_of(page)
    assert page.status_code == 200
    if step_id == REVIEW:
        assert "Awaiting review by an instructor" in body
        assert "<script>" not in page.get_data(as_text=True)
        assert "<strong>dated</strong>" in page.get_data(as_text=True)
        assert "Grocer sync" in body
    else:
        assert "100%" in body and "Passed" in body
    assert attempts_stored(app) == 1


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("step_id", "change", "message"), [
    (SORT, lambda a, ex: {**a, "place-no-such-item": ["roadmap"]},
     "This exercise has no item called 'no-such-item'"),
    (SORT, lambda a, ex: {**a, f"place-{ex.spec.items[0].id}": ["attic"]},
     "which is not a bucket of this exercise"),
    (NNL, lambda a, ex: {**a, f"place-{ex.spec.cards[0].id}": ["someday"]},
     "which is not a column of this exercise"),
    (SORT, lambda a, ex: {k: v for k, v in a.items()
                          if k != f"place-{ex.spec.items[0].id}"},
     "Place every item"),
    (SORT, lambda a, ex: {**a, f"place-{ex.spec.items[0].id}": ["roadmap", "backlog"]},
     "was placed more than once"),
    (QUIZ, lambda a, ex: {**a, f"q-{ex.spec.questions[0].id}": ["zz"]},
     "has no option 'zz'"),
    (QUIZ, lambda a, ex: {**a, f"q-{ex.spec.questions[0].id}": [option_of_another(ex)]},
     "has no option"),
    (SORT, lambda a, ex: {**a, "is_admin": ["1"]},
     "The form has fields this exercise does not know ('is_admin')"),
    (REVIEW, lambda a, ex: {**a, "card-roadmap-text": ["", "", ""]},
     "is empty: add at least one card"),
])
def test_bad_answers_are_refused_and_nothing_is_stored(client, auth, app, step_id, change,
                                                       message):
    auth.learner()
    ex = exercise(app, step_id)
    answer = correct_answer(ex)
    response = post(client, step_id, change(answer, ex))
    body = text_of(response)
    assert response.status_code == 400
    assert "Your answer was not submitted" in body
    assert message in body
    assert attempts_stored(app) == 0


def test_a_refused_board_keeps_the_learners_choices(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    answer = correct_answer(ex)
    del answer[f"place-{ex.spec.items[-1].id}"]
    html = post(client, SORT, answer).get_data(as_text=True)
    first = ex.spec.items[0]
    assert f'name="place-{first.id}" value="{first.bucket}" checked' in html
    assert f'name="place-{ex.spec.items[-1].id}" value="roadmap" checked' not in html


def test_a_refused_review_keeps_the_written_cards(client, auth, app):
    auth.learner()
    response = post(client, REVIEW, {"card-roadmap-column": ["now", "next"],
                                     "card-roadmap-text": ["Faster plans", "Grocer sync"],
                                     "r-notes": ["Bugs go in the backlog."]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "needs at least one card in Later" in text_of(response)
    assert ">Faster plans</textarea>" in html and ">Grocer sync</textarea>" in html
    assert html.count('name="card-roadmap-text"') == 5
    assert "Bugs go in the backlog.</textarea>" in html


def test_oversized_post_gets_413(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    answer = {**correct_answer(ex), "padding": ["x" * 300_000]}
    response = post(client, SORT, answer)
    assert response.status_code == 413
    assert "too large" in text_of(response)
    assert attempts_stored(app) == 0


def test_stale_version_gets_409_with_the_answer_kept_on_the_new_version(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    response = post(client, SORT, correct_answer(ex), exercise_version="0123456789abcdef")
    body = text_of(response)
    assert response.status_code == 409
    assert "This exercise changed since you opened it, so your answer was not graded." in body
    html = response.get_data(as_text=True)
    assert f'name="exercise_version" type="hidden" value="{ex.version}"' in html
    for item in ex.spec.items:
        assert f'name="place-{item.id}" value="{item.bucket}" checked' in html
    assert attempts_stored(app) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("submission_token", None), ("submission_token", "not-a-token"),
    ("submission_token", "A" * 32), ("exercise_version", None),
    ("exercise_version", "<script>"),
])
def test_missing_or_garbled_envelope_gets_400(client, auth, app, field, value):
    auth.learner()
    ex = exercise(app, SORT)
    response = post(client, SORT, correct_answer(ex), **{field: value})
    assert response.status_code == 400
    assert "no valid version or submission token" in text_of(response)
    assert attempts_stored(app) == 0


def test_missing_csrf_token_gets_400(client, auth, app):
    auth.learner()
    response = post(client, SORT, correct_answer(exercise(app, SORT)), csrf_token=None)
    assert response.status_code == 400
    assert attempts_stored(app) == 0


def test_another_sessions_csrf_token_gets_400(client, auth, app):
    """The app-wide check refuses it (the exercise form does not check it again)."""
    other = app.test_client()
    make_user(app, "other@example.com", "Other Learner")
    type(auth)(other, app).sign_in("other@example.com")
    theirs = envelope(other, SORT)["csrf_token"]
    auth.learner()
    response = post(client, SORT, correct_answer(exercise(app, SORT)), csrf_token=theirs)
    assert response.status_code == 400
    assert "This form has expired or did not come from this site." in text_of(response)
    assert attempts_stored(app) == 0
    assert post(client, SORT, correct_answer(exercise(app, SORT))).status_code == 303


def test_past_the_attempt_limit_is_refused(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    stale_page = envelope(client, SORT)  # a second tab, opened before any attempt
    for _ in range(ex.policy.max_attempts):
        assert post(client, SORT, wrong_sort_answer(ex)).status_code == 303
    page = client.get(f"/exercises/{SORT}")
    assert "You have used all 3 attempts" in text_of(page)
    assert "Submit answer" not in page.get_data(as_text=True)
    response = client.post(f"/exercises/{SORT}", data={**stale_page, **correct_answer(ex)})
    body = text_of(response)
    assert response.status_code == 409
    assert "You have used all 3 attempts at this exercise" in body
    assert "See your last attempt" in body
    assert attempts_stored(app) == 3


def test_double_submission_stores_one_attempt(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    data = {**envelope(client, SORT), **correct_answer(ex)}
    first = client.post(f"/exercises/{SORT}", data=data)
    second = client.post(f"/exercises/{SORT}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert attempts_stored(app) == 1


def test_unknown_exercise_is_404(client, auth, app):
    auth.learner()
    assert client.get("/exercises/no-such-exercise").status_code == 404
    data = {**envelope(client, SORT), **correct_answer(exercise(app, SORT))}
    assert client.post("/exercises/no-such-exercise", data=data).status_code == 404
    assert attempts_stored(app) == 0


def test_posting_to_a_lesson_is_404(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    lesson = next(s for s in get_course_steps(app) if s.kind == "lesson")
    data = {**envelope(client, SORT), **correct_answer(ex)}
    response = client.post(f"/exercises/{lesson.id}", data=data)
    assert response.status_code == 404
    assert client.get(f"/exercises/{lesson.id}").status_code == 404
    assert attempts_stored(app) == 0


def test_anonymous_post_redirects_to_sign_in(client, app):
    data = {**envelope(client, SORT), **correct_answer(exercise(app, SORT))}
    response = client.post(f"/exercises/{SORT}", data=data)
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]
    assert attempts_stored(app) == 0


def test_another_learners_attempt_is_404(client, auth, app):
    auth.learner()
    location = post(client, SORT, correct_answer(exercise(app, SORT))).headers["Location"]
    auth.sign_out()
    auth.learner("other@example.com", "Olive Other")
    assert client.get(location).status_code == 404
    assert client.get("/attempts/999999").status_code == 404


# ----------------------------------------------------------------- what is shown


def test_hints_after_a_wrong_try_and_explanations_after_passing(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    item = ex.spec.items[0]
    wrong = client.get(post(client, SORT, wrong_sort_answer(ex)).headers["Location"])
    body = text_of(wrong)
    assert "0%" in body and "Not passed yet" in body
    assert item.hint in body
    assert item.explanation not in body
    assert "Retry" in body
    right = client.get(post(client, SORT, correct_answer(ex)).headers["Location"])
    body = text_of(right)
    assert "Passed" in body and item.explanation in body
    # Passing reveals the answer on the earlier attempt too.
    body = text_of(client.get(wrong.request.path))
    assert item.explanation in body and "belongs in" in body


def test_now_next_later_result_compares_the_plans(client, auth, app):
    auth.learner()
    ex = exercise(app, NNL)
    # Roadmap cards off the roadmap, and off-roadmap cards in Later: a clear fail that
    # still keeps the Now capacity rule (Now is empty).
    answer = {f"place-{c.id}": ["later" if set(c.accept) == {"off"} else "off"]
              for c in ex.spec.cards}
    moved = ex.spec.cards[0]
    location = post(client, NNL, answer).headers["Location"]
    body = text_of(client.get(location))
    assert "Plan rules" in body and "Rule kept" in body
    assert "Reference plan" not in body  # first attempt, not passed
    for _ in range(ex.policy.max_attempts - 1):
        post(client, NNL, answer)
    body = text_of(client.get(location))
    assert "Your plan beside the reference plan" in body and "Reference plan" in body
    assert "Every difference, explained" in body
    assert moved.explanation in body


def test_quiz_result_marks_choices(client, auth, app):
    auth.learner()
    ex = exercise(app, QUIZ)
    answer = correct_answer(ex)
    q = next(q for q in ex.spec.questions if q.type != "multiple")
    wrong_option = next(o for o in q.options if not o.correct)
    answer[f"q-{q.id}"] = [wrong_option.id]
    body = text_of(client.get(post(client, QUIZ, answer).headers["Location"]))
    assert "Your choice" in body and wrong_option.feedback in body
    assert "Not right" in body


def test_my_progress_shows_exercise_scores(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    post(client, SORT, wrong_sort_answer(ex))
    post(client, SORT, correct_answer(ex))
    body = text_of(client.get("/progress"))
    assert "2 of 3" in body and "100%" in body and "Passed" in body


# ------------------------------------------------------------------ query counts


def test_query_counts_do_not_grow_with_attempts(client, auth, app):
    auth.learner()
    ex = exercise(app, NNL)
    counts = {}
    for _round in range(2):
        location = post(client, NNL, correct_answer(ex)).headers["Location"]
        post(client, SORT, correct_answer(exercise(app, SORT)))
        for name, url in (("exercise", f"/exercises/{NNL}"), ("attempt", location),
                          ("progress", "/progress")):
            with count_queries(app) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(name, []).append(len(queries))
    # The signed-in user with their unread feedback; then the exercise page's standing
    # with its page of attempts, My progress's completed steps with the exercise
    # summaries, or the attempt page's attempt with its standing.
    stated = {"exercise": 2, "attempt": 2, "progress": 2}
    for name, (first, second) in counts.items():
        assert first == second, f"{name} page: {first} then {second} queries"
        assert second == stated[name], f"{name} page runs {second} queries"


def test_my_progress_before_any_attempt(app, client, auth):
    make_user(app, "someone@example.com", "Some One")
    auth.learner()
    assert "none yet" in text_of(client.get("/progress"))


def _past_attempts(app, user_id: int, step_id: str, how_many: int) -> None:
    """Store `how_many` graded attempts straight away, as a very keen learner would have."""
    with app.app_context():
        ex = get_course().exercise(step_id)
        answer = registry.model_answer(ex)
        session = get_session()
        session.add_all(Attempt(
            user_id=user_id, exercise_id=step_id, exercise_version=ex.version, number=n,
            submission_token=f"t{n}", answer=answer, status="auto_graded", auto_score=0.5,
            score=0.5, feedback={"items": []}) for n in range(1, how_many + 1))
        session.commit()


def test_the_attempt_list_pages_newest_first(client, auth, app):
    user = auth.learner()
    _past_attempts(app, user.id, QUIZ, 45)
    with count_queries(app) as queries:
        first = text_of(client.get(f"/exercises/{QUIZ}"))
    def shown(page: str) -> set[int]:
        return {int(n) for n in re.findall(r"Attempt (\d+)</a>:", page)}

    assert shown(first) == set(range(26, 46))
    assert "Attempt 46 · unlimited attempts" in first
    older = re.search(r'href="([^"]+)"[^>]*rel="next">Older attempts',
                      client.get(f"/exercises/{QUIZ}").get_data(as_text=True)).group(1)
    second = text_of(client.get(unescape(older)))
    assert shown(second) == set(range(6, 26))
    last = text_of(client.get(f"/exercises/{QUIZ}?before=6"))
    assert shown(last) == set(range(1, 6)) and "Older attempts" not in last
    assert client.get(f"/exercises/{QUIZ}?before=0").status_code == 400
    assert client.get(f"/exercises/{QUIZ}?before=99999999999").status_code == 400

    _past_attempts(app, make_user(app, "keen@example.com", "Keen").id, QUIZ, 1)
    auth.sign_out()
    auth.sign_in("keen@example.com")
    with count_queries(app) as few:
        client.get(f"/exercises/{QUIZ}")
    assert len(few) == len(queries), "the exercise page's queries grew with attempts"


def test_a_post_that_keeps_losing_its_attempt_number_gets_409_not_500(client, auth, app,
                                                                      monkeypatch):
    """Other tabs of the same learner taking every attempt number this post is given: a
    clear 409 with the answer kept on the page, and nothing of it stored."""
    from course.services.attempts import submit as submission
    from course.services.attempts.reads import Standing
    auth.learner()
    ex = exercise(app, SORT)
    assert post(client, SORT, wrong_sort_answer(ex)).status_code == 303
    # Every read of what came before (the view's, and each retry's).
    monkeypatch.setattr(submission, "before_submitting",
                        lambda *_: submission.Prior(Standing(0, False, None), None))
    response = post(client, SORT, correct_answer(ex))
    assert response.status_code == 409
    assert "being stored at the same moment, so this one was not" in text_of(response)
    html = response.get_data(as_text=True)
    for item in ex.spec.items:
        assert f'name="place-{item.id}" value="{item.bucket}" checked' in html
    assert attempts_stored(app) == 1


@pytest.mark.parametrize("script_root", ["", "/course"])
def test_attempt_links_are_the_routes_urls(app, script_root):
    """The exercise page's attempt links (learn.exercises.attempt_url, built from attempt
    1's remembered URL) are what url_for builds, under any mount point."""
    from flask import url_for

    from course.learn.exercises import attempt_url
    for attempt_id in (1, 7, 10, 2**31 - 1):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            assert attempt_url(attempt_id) == url_for("learn.attempt", attempt_id=attempt_id)


@pytest.mark.parametrize("debug", [False, True])
def test_answer_forms_are_kept_except_in_debug(make_app, debug):
    """In debug a partial's script may change while the app runs: its form is drawn anew."""
    app = make_app(DEBUG=debug)
    client = app.test_client()
    order = next(e.id for e in app.extensions["course"].exercises if e.kind == "order")
    page = client.get(f"/exercises/{order}").get_data(as_text=True)
    assert "order.js?v=" in page
    assert bool(len(app_caches(app).answer_forms)) is not debug
