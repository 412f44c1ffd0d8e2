"""kind: order -- spec checks, answer validation and the neighbour-relative scoring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.grading import order
from course.grading.base import InvalidAnswer
from tests.unit.specs import builder, problems_of

ITEMS = ["vision", "strategy", "roadmap", "plan", "backlog"]
SPEC = {
    "first_label": "the destination",
    "last_label": "the day's work",
    "items": [{"id": i, "text": f"The {i}", "position": n, "hint": f"Hint {i}",
               "explanation": f"Why {i}"} for n, i in enumerate(ITEMS, start=1)]
    + [{"id": "wishes", "text": "The wish list", "belongs": False, "hint": "Chosen?",
        "explanation": "Raw input."}],
}
build = builder(order)
spec_problems = problems_of(order)


def answer(*ids: str, out: tuple[str, ...] = ("wishes",)) -> dict:
    positions: dict = {i: n for n, i in enumerate(ids, start=1)}
    positions.update({i: "out" for i in out})
    return {"positions": positions}


def credits(result) -> dict[str, float]:
    return {i.item_id: i.credit for i in result.items}


def test_the_model_answer_is_the_file_order_with_distractors_left_out():
    spec = build(SPEC)
    assert order.model_answer(spec) == answer(*ITEMS)
    assert spec.slots == 5 and [i.id for i in spec.ordered] == ITEMS


def test_a_reversed_order_breaks_every_link_and_scores_0():
    result = order.grade(build(SPEC), answer(*reversed(ITEMS)))
    assert credits(result) == {**dict.fromkeys(ITEMS, 0.0), "wishes": 1.0}
    assert result.score == pytest.approx(1 / 6)


def test_swapping_two_neighbours_costs_only_the_links_it_breaks():
    result = order.grade(build(SPEC), answer("vision", "strategy", "roadmap", "backlog",
                                             "plan"))
    assert credits(result) == {"vision": 1.0, "strategy": 1.0, "roadmap": 0.5,
                               "plan": 0.0, "backlog": 0.0, "wishes": 1.0}
    assert result.score == pytest.approx(3.5 / 6)


def test_a_distractor_in_the_order_loses_its_credit_and_the_links_around_it():
    result = order.grade(build(SPEC), answer("vision", "wishes", "roadmap", "plan",
                                             "backlog", out=("strategy",)))
    c = credits(result)
    assert c["wishes"] == 0 and c["strategy"] == 0
    assert c["vision"] == 0.5 and c["roadmap"] == 0.5 and c["plan"] == c["backlog"] == 1


def test_feedback_names_positions_and_out():
    result = order.grade(build(SPEC), answer(*ITEMS))
    assert result.score == 1
    wishes = next(i for i in result.items if i.item_id == "wishes")
    assert wishes.given == wishes.expected == ("out",)
    assert next(i for i in result.items if i.item_id == "plan").expected == ("4",)


# No deadline: on a CI machine busy with a browser test, one example can pass 200 ms.
@settings(deadline=None)
@given(st.permutations([*ITEMS, "wishes"]))
def test_any_complete_order_scores_between_0_and_1_and_only_the_right_one_scores_1(perm):
    spec = build(SPEC)
    ans = answer(*perm[:5], out=(perm[5],))
    assert order.validate(spec, ans) == []
    score = order.grade(spec, ans).score
    assert 0 <= score <= 1
    assert (score == 1) == (list(perm) == [*ITEMS, "wishes"])


def test_an_untouched_form_is_refused_not_graded():
    spec = build(SPEC)
    blank = order.answer_from_form(spec, {f"pos-{i}": [""] for i in [*ITEMS, "wishes"]})
    problems = order.validate(spec, blank)
    assert problems == [f"Choose a position for every item: '{text}' has none yet."
                        for text in ("The vision", "The strategy", "The roadmap", "The plan",
                                     "The backlog", "The wish list")]
    assert [p.field for p in problems] == [f"pos-{i}" for i in [*ITEMS, "wishes"]]
    with pytest.raises(InvalidAnswer):
        order.grade(spec, blank)


@pytest.mark.parametrize("positions, fragment, field", [
    ({**answer(*ITEMS)["positions"], "plan": 2}, "Position 2 is given to 'The strategy' and "
                                                 "'The plan'", "pos-strategy"),
    # Linked to the first item left out, since one of those must fill the gap.
    ({**answer(*ITEMS)["positions"], "plan": "out"}, "No item is at position 4 yet",
     "pos-plan"),
    ({**answer(*ITEMS)["positions"], "plan": 9}, "'The plan' was given 9, which is not a "
                                                 "position", "pos-plan"),
    ({**answer(*ITEMS)["positions"], "plan": ["4", "5"]}, "more than one position",
     "pos-plan"),
    ({**answer(*ITEMS)["positions"], "ghost": 1}, "no item called 'ghost'", None),
])
def test_broken_answers_say_what_to_fix(positions, fragment, field):
    problems = order.validate(build(SPEC), {"positions": positions})
    [problem] = [p for p in problems if fragment in p]
    assert getattr(problem, "field", None) == field


def test_the_form_reads_numbers_and_out():
    spec = build(SPEC)
    form = {"pos-vision": ["1"], "pos-wishes": ["out"], "pos-plan": ["", "4"]}
    assert order.answer_from_form(spec, form) == {
        "positions": {"vision": 1, "wishes": "out", "plan": 4}}


def test_the_start_order_is_never_the_answer():
    spec = build(SPEC)
    start = [i.id for i in order.start_order(spec) if i.id in ITEMS]
    assert start != ITEMS and sorted(start) == sorted(ITEMS)
    assert order.start_order(spec) == order.start_order(build(SPEC))


@pytest.mark.parametrize("change, field, fragment", [
    ({"position": 7}, "items", "must run 1, 2, 3"),
    ({"position": None}, "items['strategy'].position", "is required"),
    ({"belongs": False}, "items['strategy'].position", "has no position"),
    ({"belongs": "no"}, "items['strategy'].belongs", "true or false"),
    ({"postion": 2}, "items['strategy'].postion", "unknown field"),
])
def test_spec_mistakes_are_named(change, field, fragment):
    data = {**SPEC, "items": [dict(i) for i in SPEC["items"]]}
    data["items"][1].update(change)
    data["items"][1] = {k: v for k, v in data["items"][1].items() if v is not None}
    problems = spec_problems(data)
    assert fragment in problems.get(field, ""), problems


def test_the_end_labels_are_required():
    problems = spec_problems({k: v for k, v in SPEC.items() if k != "first_label"})
    assert problems == {"first_label": "is required"}


def given_of(answer_: dict) -> dict[str, list[str]]:
    """An answer as the result page holds it: item id -> the given place, as text."""
    return {i: [str(v)] for i, v in answer_["positions"].items()}


def test_a_partly_right_item_says_which_neighbour_earned_its_half():
    spec = build(SPEC)
    # The first two swapped: "roadmap" is in its right place with only the item below
    # it right; the swapped pair earn nothing, the rest everything.
    notes = order.credit_notes(spec, given_of(answer("strategy", "vision", "roadmap",
                                                     "plan", "backlog")))
    assert notes == {"roadmap": "Half credit: the item below it is the right one; the item "
                                "above it is not."}
    # The last two swapped: "plan" keeps the item above it, and the ends speak of the ends.
    notes = order.credit_notes(spec, given_of(answer("vision", "strategy", "roadmap",
                                                     "backlog", "plan")))
    assert notes == {"roadmap": "Half credit: the item above it is the right one; the item "
                                "below it is not."}
    notes = order.credit_notes(spec, given_of(answer("vision", "roadmap", "strategy",
                                                     "plan", "backlog")))
    assert notes["vision"] == "Half credit: it rightly starts the order; the item below it " \
                              "is not."
    notes = order.credit_notes(spec, given_of(answer("strategy", "roadmap", "plan",
                                                     "backlog", "vision")))
    assert notes["strategy"] == "Half credit: the item below it is the right one; it " \
                                "should not start the order."
    notes = order.credit_notes(spec, given_of(answer("vision", "strategy", "backlog",
                                                     "roadmap", "plan")))
    assert notes["plan"] == "Half credit: the item above it is the right one; it should " \
                            "not end the order."


def test_no_notes_for_an_answer_that_no_longer_fits_the_exercise():
    spec = build(SPEC)
    given = given_of(answer(*ITEMS))
    del given["wishes"]  # an item a newer version of the file added
    assert order.credit_notes(spec, given) == {}
