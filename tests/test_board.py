"""The placement board's HTML is built once per exercise version (course.learn.board):
what a learner chose is applied per request and never kept, and a wording fix, which keeps
the version, still shows once the course is loaded again."""

from __future__ import annotations

import re
from pathlib import Path

from werkzeug.datastructures import MultiDict

from course.caches import app_caches
from course.learn import board
from course.site import get_course
from tests.helpers import make_user
from tests.review_factories import copy_course, edit_file
from tests.test_exercise_views import NNL, SORT, exercise, post, wrong_sort_answer

CHECKED = re.compile(r'name="(place-[^"]+)" value="([^"]+)" checked')


class Item:
    def __init__(self, id: str, text: str):
        self.id, self.text = id, text


COLUMNS = [{"id": "yes", "label": "Yes <b>"}, {"id": "no", "label": "No"}]
ITEMS = [Item("a", 'Say "a" & <b>'), Item("b", "Say b")]


def test_a_board_checks_only_what_was_posted_and_escapes_its_texts():
    built = board.build(COLUMNS, ITEMS)
    blank = str(built.render(None))
    assert blank == str(built.render(MultiDict())) and " checked" not in blank
    assert "Say &#34;a&#34; &amp; &lt;b&gt;" in blank and "Yes &lt;b&gt;" in blank
    chosen = str(built.render(MultiDict([("place-b", "no"), ("place-x", "yes")])))
    assert CHECKED.findall(chosen) == [("place-b", "no")]
    # The first radio button of each card carries the card's field id, checked or not.
    assert 'value="yes" id="place-a"' in chosen and 'value="yes" id="place-b"' in chosen
    # The pieces are the board's: rendering with choices leaves them as they were.
    assert str(built.render(None)) == blank


def test_a_learners_prefilled_board_is_never_shown_to_another(client, auth, app):
    auth.learner()
    wrong = wrong_sort_answer(exercise(app, SORT))
    assert post(client, SORT, wrong).status_code == 303
    mine = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert sorted(CHECKED.findall(mine)) == sorted((k, v) for k, (v,) in wrong.items())
    auth.sign_out()
    assert CHECKED.findall(client.get(f"/exercises/{SORT}").get_data(as_text=True)) == []
    make_user(app, "other@example.com", "Other Learner")
    auth.sign_in("other@example.com")
    for step_id in (SORT, NNL):
        assert CHECKED.findall(client.get(f"/exercises/{step_id}").get_data(as_text=True)) == []
    with app.app_context():
        sort = get_course().exercise(SORT)
        assert ("", SORT, sort.version, "") in app_caches(app).answer_forms
    auth.sign_out()
    auth.sign_in()
    again = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert sorted(CHECKED.findall(again)) == sorted(CHECKED.findall(mine))


def test_a_wording_fix_shows_on_the_board_though_the_version_is_the_same(
        make_app, tmp_path: Path):
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    old_radio, new_radio = "> Roadmap</label>", "> The roadmap</label>"
    assert old_radio in before.test_client().get(f"/exercises/{SORT}").get_data(as_text=True)
    edit_file(content / "exercises" / f"{SORT}.yaml",
              lambda t: t.replace("    label: Roadmap\n", "    label: The roadmap\n", 1))
    after = make_app(COURSE_CONTENT_DIR=str(content))
    assert exercise(after, SORT).version == exercise(before, SORT).version
    page = after.test_client().get(f"/exercises/{SORT}").get_data(as_text=True)
    assert new_radio in page and old_radio not in page
