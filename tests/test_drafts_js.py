"""drafts.js is served from this origin, which the Content-Security-Policy allows, and only
pages with a written answer load it: the exercise page (to keep a draft) and the attempt
page (to drop it once saved)."""

from __future__ import annotations

import pytest

from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit


def test_drafts_js_is_served_as_javascript_under_the_policy(client) -> None:
    response = client.get("/static/drafts.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    body = response.get_data(as_text=True)
    response.close()
    assert '"use strict"' in body and "eval(" not in body and "http" not in body
    policy = client.get(f"/exercises/{VISION}").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy


@pytest.mark.parametrize("step_id, written", [
    (VISION, True), ("your-own-roadmap", True), ("final-quiz", False),
    ("roadmap-or-backlog", False)])
def test_only_a_written_answer_loads_the_drafts_script(auth, client, step_id, written) -> None:
    learner = auth.learner()
    html = client.get(f"/exercises/{step_id}").get_data(as_text=True)
    assert ('<script src="/static/drafts.js?v=' in html) is written
    if written:
        assert f'role="status" data-drafts="{step_id}" data-version="' in html
        # Kept under the learner's id: another learner on the same browser never gets it.
        assert f'data-learner="{learner.id}"' in html
        assert 'data-attempts-used="0"' in html and " data-draft " in html


def test_the_attempt_page_of_a_written_answer_marks_it_saved(app, auth, client) -> None:
    learner = auth.learner()
    first = submit(app, learner.id, VISION, VISION_ANSWER)
    html = client.get(f"/attempts/{first}").get_data(as_text=True)
    assert (f'data-drafts-saved="{VISION}" data-attempts-used="1" '
            f'data-learner="{learner.id}"') in html
    assert '<script src="/static/drafts.js?v=' in html
    sorted_ = submit(app, learner.id, SORT, sort_form(app))
    assert "drafts.js" not in client.get(f"/attempts/{sorted_}").get_data(as_text=True)
