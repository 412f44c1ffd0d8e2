"""Draft reviews are their own state: not "awaiting review" on the dashboard, listed and
releasable from the dashboard and the queue, and the flash after saving one says where."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from course.db import get_session
from course.models import Attempt
from course.models.timestamps import utcnow
from tests.helpers import count_queries, csrf_token, make_user
from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit

RUBRIC = {"rubric-vision-short-aspirational": "2", "rubric-strategy-how-who-value": "2",
          "rubric-choices-not-features": "1", "rubric-vision-strategy-distinct": "1"}


def _save_draft(client, attempt_id, then="stay"):
    return client.post(f"/instructor/submissions/{attempt_id}", data={
        "csrf_token": csrf_token(client, f"/instructor/submissions/{attempt_id}"),
        "revision": "1", "feedback": "Good start.", "override": "", "reason": "",
        "then": then, **RUBRIC})


def _drafts(app, auth, client, learners: int, drafts: int) -> list[int]:
    """`learners` submissions of written work, the first `drafts` of them with a draft
    review saved by an instructor, who stays signed in; their attempt ids."""
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(learners)]
    ids = [submit(app, person, VISION, VISION_ANSWER) for person in people]
    auth.instructor()
    for attempt_id in ids[:drafts]:
        assert _save_draft(client, attempt_id).status_code == 303
    return ids


def _cell(html: str, label: str, exercise_id: str) -> str:
    """The dashboard cell `label` of the row whose Submissions link names `exercise_id`."""
    row = html[:html.index(f"/instructor/submissions?exercise={exercise_id}&amp;")]
    row = row[row.rindex("<tr>"):] + html[len(row):]
    row = row[:row.index("</tr>")]
    cell = row[row.index(f'data-label="{label}"'):]
    return cell[:cell.index("</td>")]


def _age(app, attempt_id, days):
    with app.app_context():
        session = get_session()
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(
            draft_saved_at=utcnow() - timedelta(days=days)))
        session.commit()


def _status(app, attempt_id) -> str:
    with app.app_context():
        return get_session().get(Attempt, attempt_id).status


def test_the_dashboard_counts_drafts_apart_from_work_awaiting_review(app, auth, client):
    _drafts(app, auth, client, learners=3, drafts=2)
    html = client.get("/instructor/").get_data(as_text=True)
    assert ">1<span class=\"visually-hidden\"> awaiting review for" in _cell(
        html, "Awaiting review", VISION)
    drafts = _cell(html, "Drafts to release", VISION)
    assert f"/instructor/submissions?exercise={VISION}&amp;status=draft" in drafts
    assert ">2<span class=\"visually-hidden\"> drafts of" in drafts
    assert "2 draft reviews not released" in html
    assert "<strong>1</strong> submission awaits review" in html
    assert "more than a day ago" not in html and "over a day old" not in html


def test_the_dashboard_warns_about_drafts_older_than_a_day(app, auth, client):
    ids = _drafts(app, auth, client, learners=2, drafts=2)
    _age(app, ids[0], days=2)
    html = client.get("/instructor/").get_data(as_text=True)
    assert "<strong>1 was saved more than a day ago</strong>" in html
    assert "1 over a day old" in _cell(html, "Drafts to release", VISION)


def test_release_every_draft_from_the_dashboard(app, auth, client):
    learner = make_user(app).id
    vision = submit(app, learner, VISION, VISION_ANSWER)
    sort = submit(app, learner, SORT, sort_form(app, wrong=2))
    auth.instructor()
    _save_draft(client, vision)
    client.post(f"/instructor/submissions/{sort}", data={
        "csrf_token": csrf_token(client, f"/instructor/submissions/{sort}"), "revision": "1",
        "feedback": "See the roadmap lesson.", "override": "", "reason": "", "then": "stay"})
    html = client.get("/instructor/").get_data(as_text=True)
    assert ">Release all 2 drafts</button>" in html
    response = client.post("/instructor/drafts/release", data={
        "csrf_token": csrf_token(client, "/instructor/"), "back": "dashboard"})
    assert response.status_code == 303 and response.headers["Location"] == "/instructor/"
    html = client.get("/instructor/").get_data(as_text=True)
    assert "2 reviews released: the learners can see them now." in html
    assert "draft reviews not released" not in html
    assert _status(app, vision) == _status(app, sort) == "reviewed"


def test_release_one_exercise_from_its_dashboard_row(app, auth, client):
    learner = make_user(app).id
    vision = submit(app, learner, VISION, VISION_ANSWER)
    auth.instructor()
    _save_draft(client, vision)
    response = client.post(f"/instructor/exercises/{VISION}/release", data={
        "csrf_token": csrf_token(client, "/instructor/"), "back": "dashboard"})
    assert response.headers["Location"] == "/instructor/"
    assert _status(app, vision) == "reviewed"


def test_a_release_going_anywhere_else_is_refused(app, auth, client):
    auth.instructor()
    response = client.post("/instructor/drafts/release", data={
        "csrf_token": csrf_token(client, "/instructor/"), "back": "https://example.com/"})
    assert response.status_code == 400


def test_the_queue_of_every_draft_offers_to_release_them_all(app, auth, client):
    ids = _drafts(app, auth, client, learners=2, drafts=2)
    html = client.get("/instructor/submissions?status=draft").get_data(as_text=True)
    assert "2 draft reviews are waiting" in html and ">Release 2 reviews</button>" in html
    assert 'action="/instructor/drafts/release?' in html
    narrowed = client.get("/instructor/submissions?status=draft&learner=Person+1")
    assert "Release 2 reviews" not in narrowed.get_data(as_text=True)
    response = client.post("/instructor/drafts/release?status=draft", data={
        "csrf_token": csrf_token(client, "/instructor/")})
    assert response.headers["Location"].startswith("/instructor/submissions?")
    assert all(_status(app, i) == "reviewed" for i in ids)


def test_the_flash_after_saving_a_draft_links_to_its_release(app, auth, client):
    attempt_id = submit(app, make_user(app).id, VISION, VISION_ANSWER)
    auth.instructor()
    response = _save_draft(client, attempt_id)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    flash = html[html.index("Review saved as a draft"):]
    flash = flash[:flash.index("</p>")]
    link = f'href="/instructor/submissions/{attempt_id}?'
    assert link in flash and '#release-draft">Release it</a>' in flash
    assert 'href="/instructor/submissions?status=draft&amp;order=oldest"' in flash
    assert 'id="release-draft"' in html


def test_the_dashboard_reads_drafts_in_one_query_however_many(app, auth, client):
    auth.instructor()

    def queries() -> int:
        with count_queries(app) as statements:
            assert client.get("/instructor/").status_code == 200
        return len(statements)

    none = queries()
    people = [make_user(app, f"p{n}@example.com", f"Person {n}").id for n in range(3)]
    for person in people:
        _save_draft(client, submit(app, person, VISION, VISION_ANSWER))
    assert queries() == none
