"""The attempt page keeps what it works out from an answer (course.services.attempts.report's
re-graded feedback and model answer, course.learn.exercises.attempt_answer's markup) by
exercise version and answer only: each learner still sees their own answer, an attempt of
an older version is not kept, and a wording fix shows once the course is loaded again."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import update

from course.caches import app_caches
from course.db import get_session
from course.models import Attempt
from course.services.attempts import reads as attempt_reads
from course.services.attempts import report as attempt_page
from course.site import get_course
from tests.helpers import make_user
from tests.review_factories import SORT, copy_course, edit_file, sort_form, submit
from tests.test_content_versions import HINT, NEW_HINT

MARKS = re.compile(r'class="result-card result-(\w+)" id="item-([^"]+)"')


def _marks(client, attempt_id: int) -> list[tuple[str, str]]:
    return MARKS.findall(client.get(f"/attempts/{attempt_id}").get_data(as_text=True))


def test_each_learner_sees_their_own_answer_on_a_kept_attempt_page(app, auth, client):
    wrong = submit(app, make_user(app, "wrong@example.com", "W").id, SORT, sort_form(app, 3))
    right = submit(app, make_user(app, "right@example.com", "R").id, SORT, sort_form(app))
    same = submit(app, make_user(app, "same@example.com", "S").id, SORT, sort_form(app, 3))
    seen = {}
    for email, attempt_id in (("wrong@example.com", wrong), ("right@example.com", right),
                              ("same@example.com", same), ("wrong@example.com", wrong)):
        auth.sign_in(email)
        seen.setdefault(email, []).append(_marks(client, attempt_id))
        # Nobody else's attempt, kept or not, is shown to them.
        others = {wrong, right, same} - {attempt_id}
        assert all(client.get(f"/attempts/{o}").status_code == 404 for o in others)
        auth.sign_out()
    assert [m for m, _ in seen["wrong@example.com"][0]].count("wrong") == 3
    assert {m for m, _ in seen["right@example.com"][0]} == {"right"}
    assert seen["wrong@example.com"][0] == seen["wrong@example.com"][1]
    assert seen["same@example.com"][0] == seen["wrong@example.com"][0]
    # One account per different answer and visibility, none per learner.
    assert len(app_caches(app).attempt_answers) == 2


def test_an_attempt_of_an_older_version_is_not_kept(app, auth, client):
    user = auth.learner()
    attempt_id = submit(app, user.id, SORT, sort_form(app, 2))
    with app.app_context():
        get_session().execute(update(Attempt).values(exercise_version="0ld"))
        get_session().commit()
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "The exercise has changed since this attempt" in page
    assert [m for m, _ in MARKS.findall(page)].count("wrong") == 2
    assert len(app_caches(app).attempt_answers) == 0


def test_a_hint_fix_shows_though_the_same_answer_was_graded_before(make_app, tmp_path: Path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(before, "lee@example.com", "Lee Learner").id
    attempt_id = submit(before, learner, SORT, sort_form(before, 3))

    def first_message(app) -> str:
        with app.app_context():
            session = get_session()
            exercise = get_course().exercise(SORT)
            report = attempt_page.attempt_report(
                exercise, session.get(Attempt, attempt_id),
                attempt_reads.standing(session, learner, SORT))
            return report.items[0].message

    assert first_message(before) == HINT.split(": ", 1)[1].strip()
    edit_file(content / "exercises" / f"{SORT}.yaml", lambda t: t.replace(HINT, NEW_HINT))
    after = make_app(COURSE_CONTENT_DIR=str(content))
    assert first_message(after) == NEW_HINT.split(": ", 1)[1].strip()
    assert first_message(before) == HINT.split(": ", 1)[1].strip()
