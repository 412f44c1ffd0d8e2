"""board.js is served as JavaScript from this origin and every board page loads it."""

from __future__ import annotations

import pytest


def test_board_js_is_served_as_javascript(client) -> None:
    response = client.get("/static/board.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    body = response.get_data(as_text=True)
    response.close()  # send_file streams the file; close it so no handle is left open
    assert '"use strict"' in body
    # CSP is script-src 'self': the script must not need eval or fetch anything remote.
    assert "eval(" not in body and "http" not in body


@pytest.mark.parametrize("step_id, marker", [
    ("roadmap-or-backlog", "data-board"),
    ("build-now-next-later", "data-board"),
    ("your-own-roadmap", "data-text-board"),
])
def test_board_pages_load_the_script_and_carry_the_markup_it_needs(client, step_id,
                                                                   marker) -> None:
    html = client.get(f"/exercises/{step_id}").get_data(as_text=True)
    assert '<script src="/static/board.js?v=' in html  # the content hash (course/assets.py)
    assert marker in html and "data-columns=" in html
    # The live region is in the page from the start, so the first announcement is read.
    assert 'aria-live="polite" id="board-status"' in html
    if marker == "data-board":
        assert 'name="place-' in html
    else:
        assert f'name="card-{"roadmap"}-column"' in html and 'name="card-roadmap-text"' in html
