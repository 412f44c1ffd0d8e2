"""The order exercise through the web: the no-JavaScript form, its script, the result page."""

from __future__ import annotations

from course.grading import order
from tests.test_exercise_views import exercise, post, text_of

STEP = "order-the-tools"


def test_the_page_has_a_position_per_item_and_loads_its_script(client):
    response = client.get(f"/exercises/{STEP}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-order" in html
    assert html.count('<select name="pos-') == 7 and "Doesn&#39;t belong" in html
    assert '<script src="/static/order.js' in html and 'id="order-status"' in html
    script = client.get("/static/order.js")
    assert script.status_code == 200 and '"use strict"' in script.get_data(as_text=True)
    script.close()


def test_an_untouched_form_is_refused_and_a_full_order_is_graded(client, auth, app):
    auth.learner()
    ex = exercise(app, STEP)
    blank = {f"pos-{i.id}": [""] for i in ex.spec.items}
    refused = post(client, STEP, blank)
    assert refused.status_code == 400
    assert "Choose a position for every item" in text_of(refused)

    # The belonging items in reverse, the distractors left out: every link broken.
    positions = {i.id: "out" for i in ex.spec.items if i.position is None}
    positions |= {i.id: str(ex.spec.slots + 1 - i.position) for i in ex.spec.ordered}
    answered = post(client, STEP, {f"pos-{k}": [v] for k, v in positions.items()})
    assert answered.status_code == 303
    body = text_of(client.get(answered.headers["Location"]))
    assert "Your order" in body and "You left out" in body
    distractors = 7 - ex.spec.slots
    assert f"{round(distractors / 7 * 100)}%" in body

    model = order.model_answer(ex.spec)
    right = post(client, STEP, order.form_from_answer(ex.spec, model))
    assert "100%" in text_of(client.get(right.headers["Location"]))
