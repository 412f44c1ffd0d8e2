"""Lesson progress: the "Mark as complete" toggle, "My progress", and who may change what."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from course.db import get_session
from course.models import StepProgress
from course.site import get_course
from tests.helpers import AuthActions, count_queries, csrf_token, make_user

FIRST = "what-product-managers-do"
SECOND = "product-vision"


def total_steps(app: Flask) -> int:
    with app.app_context():
        return len(get_course().steps)


def completed(app: Flask, user_id: int) -> set[str]:
    with app.app_context():
        return set(get_session().scalars(
            select(StepProgress.step_id).where(StepProgress.user_id == user_id)))


def complete_directly(app: Flask, user_id: int, step_ids) -> None:
    with app.app_context():
        session = get_session()
        session.add_all(StepProgress(user_id=user_id, step_id=s) for s in step_ids)
        session.commit()


def toggle(client: FlaskClient, lesson_id: str, done: str, **extra):
    data = {"csrf_token": csrf_token(client, f"/lessons/{lesson_id}"), "done": done}
    data.update(extra)
    return client.post(f"/lessons/{lesson_id}/complete", data=data)


def progress_numbers(html: str) -> tuple[int, int]:
    match = re.search(r'<progress max="(\d+)" value="(\d+)"', html)
    assert match, "no <progress> element"
    return int(match.group(2)), int(match.group(1))


def test_lesson_page_offers_mark_as_complete(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    html = client.get(f"/lessons/{FIRST}").get_data(as_text=True)
    assert "Mark as complete" in html
    assert 'name="done" type="hidden" value="1"' in html
    assert f'action="/lessons/{FIRST}/complete"' in html


def test_anonymous_lesson_page_invites_sign_in(client: FlaskClient) -> None:
    html = client.get(f"/lessons/{FIRST}").get_data(as_text=True)
    assert "Mark as complete" not in html
    assert f'href="/signin?next=/lessons/{FIRST}"' in html


def test_toggle_done_and_not_done(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    user = auth.learner()
    response = toggle(client, FIRST, "1")
    assert response.status_code == 302
    # Marking a lesson complete moves on to the next step of the outline.
    assert response.headers["Location"] == f"/lessons/{SECOND}"
    assert completed(app, user.id) == {FIRST}
    next_page = client.get(f"/lessons/{SECOND}").get_data(as_text=True)
    assert "as complete." in next_page

    html = client.get(f"/lessons/{FIRST}").get_data(as_text=True)
    assert "You completed this lesson." in html
    # Next is the main button; un-marking is a plain link-styled button after it.
    assert html.index(f'class="button" href="/lessons/{SECOND}"') < html.index(
        "Mark as not complete")
    assert "Mark as not complete" in html
    assert 'name="done" type="hidden" value="0"' in html

    response = toggle(client, FIRST, "0")
    assert response.status_code == 302
    assert completed(app, user.id) == set()
    html = client.get(f"/lessons/{FIRST}").get_data(as_text=True)
    assert "Marked as not complete." in html
    assert "You completed this lesson." not in html


def test_marking_twice_is_harmless(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    """A resent form (double click, back button) does not fail or duplicate the row."""
    user = auth.learner()
    assert toggle(client, FIRST, "1").status_code == 302
    assert toggle(client, FIRST, "1").status_code == 302
    assert completed(app, user.id) == {FIRST}
    assert toggle(client, FIRST, "0").status_code == 302
    assert toggle(client, FIRST, "0").status_code == 302
    assert completed(app, user.id) == set()


def test_my_progress_rises(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    total = total_steps(app)
    html = client.get("/progress").get_data(as_text=True)
    assert "<h1>My progress</h1>" in html
    assert f"0 of {total}" in html
    assert progress_numbers(html) == (0, total)

    toggle(client, FIRST, "1")
    html = client.get("/progress").get_data(as_text=True)
    assert f"1 of {total}" in html
    assert progress_numbers(html) == (1, total)

    toggle(client, SECOND, "1")
    html = client.get("/progress").get_data(as_text=True)
    assert f"2 of {total}" in html
    assert progress_numbers(html) == (2, total)
    assert html.count("</span>Done</span>") == 2

    home = client.get("/").get_data(as_text=True)
    assert f"2 of {total}" in home
    assert home.count("step-passed") == 2
    # Continue points at the first step not yet done.
    with app.app_context():
        third = get_course().steps[2]
    assert f'>Continue: {third.title}</a>' in home


def test_anonymous_post_redirects_to_sign_in(app: Flask, client: FlaskClient) -> None:
    # Anonymous visitors have a session (and a token) from the sign-in form.
    response = client.post(f"/lessons/{FIRST}/complete",
                           data={"csrf_token": csrf_token(client, "/signin"), "done": "1"},
                           headers={"Referer": f"http://localhost/lessons/{FIRST}"})
    assert response.status_code == 302
    # Back to the lesson after signing in, not to the form's POST-only action.
    assert response.headers["Location"] == f"/signin?next=/lessons/{FIRST}"
    with app.app_context():
        assert get_session().scalar(select(StepProgress.id)) is None


def test_anonymous_progress_page_redirects_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/progress")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")


def test_forged_user_id_is_ignored(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    other = make_user(app, "other@example.com", "Other Learner")
    complete_directly(app, other.id, [SECOND])
    me = auth.learner()

    # Try to mark a lesson done for the other learner, and to undo one of theirs.
    toggle(client, FIRST, "1", user_id=str(other.id))
    toggle(client, SECOND, "0", user_id=str(other.id))

    assert completed(app, other.id) == {SECOND}
    assert completed(app, me.id) == {FIRST}


def test_progress_is_per_learner(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    other = make_user(app, "other@example.com", "Other Learner")
    complete_directly(app, other.id, [FIRST, SECOND])
    auth.learner()
    html = client.get("/progress").get_data(as_text=True)
    assert progress_numbers(html)[0] == 0


def test_unknown_lesson_is_404(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    assert client.get("/lessons/no-such-lesson").status_code == 404
    token = csrf_token(client, f"/lessons/{FIRST}")
    response = client.post("/lessons/no-such-lesson/complete",
                           data={"csrf_token": token, "done": "1"})
    assert response.status_code == 404


def test_exercise_cannot_be_marked_complete_by_hand(app: Flask, client: FlaskClient,
                                                    auth: AuthActions) -> None:
    """Exercises are completed by passing them, not by the lesson toggle."""
    user = auth.learner()
    with app.app_context():
        exercise_id = get_course().exercises[0].id
    token = csrf_token(client, f"/lessons/{FIRST}")
    response = client.post(f"/lessons/{exercise_id}/complete",
                           data={"csrf_token": token, "done": "1"})
    assert response.status_code == 404
    assert completed(app, user.id) == set()


@pytest.mark.parametrize("done", ["", "2", "yes", "true"])
def test_invalid_done_value_is_400(app: Flask, client: FlaskClient, auth: AuthActions,
                                   done: str) -> None:
    user = auth.learner()
    assert toggle(client, FIRST, done).status_code == 400
    assert completed(app, user.id) == set()


def test_toggle_needs_post(client: FlaskClient, auth: AuthActions) -> None:
    auth.learner()
    assert client.get(f"/lessons/{FIRST}/complete").status_code == 405


# --- query counts ----------------------------------------------------------------------


def queries_for(app: Flask, client: FlaskClient, url: str) -> list[str]:
    client.get(url)  # warm up: the first request may open connections
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return list(statements)


@pytest.mark.parametrize("url", ["/", "/progress", f"/lessons/{FIRST}"])
def test_query_count_does_not_grow_with_progress(app: Flask, client: FlaskClient,
                                                 auth: AuthActions, url: str) -> None:
    user = auth.learner()
    complete_directly(app, user.id, [FIRST])
    few = queries_for(app, client, url)

    with app.app_context():
        everything = [s.id for s in get_course().steps if s.id != FIRST]
    complete_directly(app, user.id, everything)
    many = queries_for(app, client, url)

    assert len(many) == len(few), "\n".join(many)
    # The signed-in user (with their unread feedback), then the page's rows: the course
    # home's and My progress's progress, a lesson's completion.
    assert len(few) == 2, "\n".join(few)


def test_anonymous_home_page_needs_no_queries(app: Flask, client: FlaskClient) -> None:
    assert queries_for(app, client, "/") == []
