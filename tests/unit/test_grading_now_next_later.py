"""kind: now-next-later -- placement credit, plan rules, spec checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.grading import now_next_later as nnl
from course.grading.base import InvalidAnswer
from tests.unit.specs import builder, changer, problems_of


def card(cid, text, accept):
    return {"id": cid, "text": text, "accept": accept, "hint": f"hint {cid}",
            "explanation": f"why {cid}"}


SPEC = {
    "cards": [
        card("faster-planning", "Cut the time spent planning the week", ["now"]),
        card("shopping-list", "Shared shopping lists", ["next"]),
        card("nutrition-goals", "Nutrition goals", ["later"]),
        card("fix-eggs", "Fix the duplicated eggs", ["off"]),
    ],
    "rules": [
        {"id": "focused-now", "type": "capacity", "column": "now", "max": 1, "points": 2,
         "feedback": "A crowded Now column means nothing gets finished."},
        {"id": "lists-before-nutrition", "type": "precedence", "first": "shopping-list",
         "then": "nutrition-goals", "points": 1,
         "feedback": "Goals need the shopping data first."},
    ],
}
MODEL = {"faster-planning": "now", "shopping-list": "next", "nutrition-goals": "later",
         "fix-eggs": "off"}


build = builder(nnl)
spec_problems = problems_of(nnl)
changed = changer(SPEC)


def grade(**moves):
    return nnl.grade(build(SPEC), {"placements": {**MODEL, **moves}})


# ------------------------------------------------------------------------------ spec


def test_columns_are_fixed():
    assert nnl.COLUMNS == (("now", "Now"), ("next", "Next"), ("later", "Later"),
                           ("off", "Off the roadmap"))


def test_parse_valid_spec():
    spec = build(SPEC)
    assert [c.id for c in spec.cards] == list(MODEL)
    cap, prec = spec.rules
    assert (cap.type, cap.column, cap.max, cap.points) == ("capacity", "now", 1, 2)
    assert (prec.type, prec.first, prec.then) == ("precedence", "shopping-list",
                                                 "nutrition-goals")


def test_rules_are_optional_and_points_default_to_one():
    assert build({"cards": SPEC["cards"]}).rules == ()
    data = changed(("rules", 1, "points"), None)
    assert build(data).rules[1].points == 1


@pytest.mark.parametrize(("path", "value", "field", "fragment"), [
    (("cards", 0, "accept"), [], "cards['faster-planning'].accept", "at least 1 entry"),
    (("cards", 0, "accept"), ["soon"], "cards['faster-planning'].accept[0]",
     "'soon' is not allowed here; use 'now', 'next', 'later' or 'off'"),
    (("cards", 0, "accept"), ["now", "now"], "cards['faster-planning'].accept",
     "lists a column twice"),
    (("cards", 0, "accept"), None, "cards['faster-planning'].accept", "required"),
    (("cards", 1, "id"), "faster-planning", "cards['faster-planning'].id", "duplicate"),
    (("cards", 1, "hint"), None, "cards['shopping-list'].hint", "required"),
    (("rules", 1, "then"), "nope", "rules['lists-before-nutrition'].then",
     "'nope' is not a card"),
    (("rules", 1, "then"), "shopping-list", "rules['lists-before-nutrition'].then",
     "different card"),
    (("rules", 1, "first"), None, "rules['lists-before-nutrition'].first", "required"),
    (("rules", 0, "type"), "order", "rules['focused-now'].type",
     "'order' is not allowed here; use 'capacity', 'precedence'"),
    (("rules", 0, "type"), None, "rules['focused-now'].type", "required"),
    (("rules", 0, "max"), 0, "rules['focused-now'].max", "at least 1"),
    (("rules", 0, "max"), True, "rules['focused-now'].max", "whole number"),
    (("rules", 0, "column"), "soon", "rules['focused-now'].column", "not allowed here"),
    (("rules", 0, "points"), 0, "rules['focused-now'].points", "must be more than 0"),
    (("rules", 1, "points"), -1, "rules['lists-before-nutrition'].points", "more than 0"),
    (("rules", 1, "id"), "focused-now", "rules['focused-now'].id", "duplicate"),
    (("rules", 0, "feedback"), None, "rules['focused-now'].feedback", "required"),
    (("rules", 0, "colum"), "now", "rules['focused-now'].colum",
     "unknown field (allowed here: column, feedback, id, max, points, type)"),
])
def test_parse_reports_field(path, value, field, fragment):
    problems = spec_problems(changed(path, value))
    assert field in problems, problems
    assert fragment in problems[field]


def test_model_answer_must_keep_capacity_rule():
    data = changed(("cards", 1, "accept"), ["now", "next"])
    problems = spec_problems(data)
    assert "Now holds 2 cards" in problems["rules['focused-now']"]
    assert "model answer" in problems["rules['focused-now']"]


def test_model_answer_must_keep_precedence_rule():
    data = changed(("rules", 1, "first"), "nutrition-goals")
    data["rules"][1]["then"] = "shopping-list"
    problems = spec_problems(data)
    assert set(problems) == {"rules['lists-before-nutrition']"}
    assert "'Nutrition goals' is in Later but 'Shared shopping lists' is in Next" in (
        problems["rules['lists-before-nutrition']"])


# -------------------------------------------------------------------------- validate


def test_form_to_answer_and_validate():
    spec = build(SPEC)
    form = {f"place-{k}": [v] for k, v in MODEL.items()}
    answer = nnl.answer_from_form(spec, form)
    assert answer == {"placements": MODEL}
    assert nnl.validate(spec, answer) == []


def test_validate_names_missing_duplicate_and_unknown():
    spec = build(SPEC)
    form = {f"place-{k}": [v] for k, v in MODEL.items()}
    del form["place-fix-eggs"]
    form["place-shopping-list"] = ["next", "now"]
    form["place-xyz"] = ["now"]
    form["place-faster-planning"] = ["soon"]
    problems = nnl.validate(spec, nnl.answer_from_form(spec, form))
    assert "Place every card: 'Fix the duplicated eggs' is not in a column yet." in problems
    assert any("'Shared shopping lists' was placed more than once" in p for p in problems)
    assert any("no card called 'xyz'" in p for p in problems)
    assert any("was put in 'soon'" in p for p in problems)


def test_grade_rejects_incomplete_answer():
    with pytest.raises(InvalidAnswer):
        nnl.grade(build(SPEC), {"placements": {"faster-planning": "now"}})


# ----------------------------------------------------------------------------- grade


def test_model_answer_scores_one():
    result = grade()
    assert result.score == 1
    assert (result.points, result.max_points) == (7, 7)
    assert all(r.passed for r in result.rules)


def test_adjacent_column_earns_half():
    result = grade(**{"faster-planning": "next"})
    assert result.items[0].credit == 0.5
    assert result.items[0].given == ("next",) and result.items[0].expected == ("now",)
    assert result.score == pytest.approx(6.5 / 7)


def test_two_columns_away_earns_nothing():
    assert grade(**{"faster-planning": "later"}).items[0].credit == 0


def test_roadmap_card_put_off_earns_nothing():
    assert grade(**{"nutrition-goals": "off"}).items[2].credit == 0


def test_off_card_placed_on_roadmap_earns_nothing_and_can_break_capacity():
    result = grade(**{"fix-eggs": "now"})
    assert result.items[3].credit == 0
    capacity = result.rules[0]
    assert not capacity.passed and capacity.points == 0 and capacity.max_points == 2
    assert capacity.message == ("A crowded Now column means nothing gets finished. "
                                "Now holds 2 cards; keep it to at most 1.")
    assert result.score == pytest.approx(4 / 7)


def test_off_card_placed_in_later_earns_nothing():
    assert grade(**{"fix-eggs": "later"}).items[3].credit == 0


def test_precedence_failure():
    result = grade(**{"shopping-list": "later", "nutrition-goals": "next"})
    precedence = result.rules[1]
    assert not precedence.passed and precedence.points == 0
    assert precedence.message.startswith("Goals need the shopping data first. ")
    assert "'Shared shopping lists' is in Later but 'Nutrition goals' is in Next" in (
        precedence.message)
    assert result.score == pytest.approx((1 + 0.5 + 0.5 + 1 + 2) / 7)


def test_precedence_same_column_passes():
    result = grade(**{"shopping-list": "later"})
    assert result.rules[1].passed


def test_passing_rules_confirm():
    result = grade()
    assert result.rules[0].message == "Now holds 1 card, within the limit of 1."


@pytest.mark.parametrize(("accept", "column", "credit"), [
    (("now", "later"), "next", 1 * 0.5),
    (("off", "now"), "next", 0.5),
    (("off", "now"), "off", 1),
    (("off",), "later", 0),
    (("later",), "off", 0),
    (("next",), "now", 0.5),
])
def test_placement_credit(accept, column, credit):
    card = nnl.Card(id="c", text="C", accept=accept, hint="h", explanation="e")
    assert nnl.placement_credit(card, column) == credit


# ------------------------------------------------------------------------ properties

COLUMN_IDS = [c for c, _ in nnl.COLUMNS]


@st.composite
def specs(draw):
    n = draw(st.integers(1, 8))
    cards = []
    for j in range(n):
        accept = draw(st.lists(st.sampled_from(COLUMN_IDS), min_size=1, max_size=3,
                               unique=True))
        cards.append(card(f"c{j}", f"Card {j}", accept))
    model = {c["id"]: c["accept"][0] for c in cards}
    rules = []
    for k in range(draw(st.integers(0, 2))):
        column = draw(st.sampled_from(COLUMN_IDS))
        in_column = sum(1 for col in model.values() if col == column)
        rules.append({"id": f"cap{k}", "type": "capacity", "column": column,
                      "max": max(1, in_column) + draw(st.integers(0, 2)),
                      "points": draw(st.integers(1, 3)), "feedback": "Keep focus."})
    on_roadmap = sorted(cid for cid, column in model.items() if column != "off")
    if len(on_roadmap) >= 2:
        for k in range(draw(st.integers(0, 2))):
            a, b = draw(st.lists(st.sampled_from(on_roadmap), min_size=2, max_size=2,
                                 unique=True))
            if COLUMN_IDS.index(model[a]) > COLUMN_IDS.index(model[b]):
                a, b = b, a
            rules.append({"id": f"prec{k}", "type": "precedence", "first": a, "then": b,
                          "points": draw(st.integers(1, 3)), "feedback": "Order matters."})
    return build({"cards": cards, "rules": rules})


def random_answer(draw, spec):
    return {"placements": {c.id: draw(st.sampled_from(COLUMN_IDS)) for c in spec.cards}}


@settings(max_examples=80, deadline=None)
@given(specs(), st.data())
def test_random_answers_score_in_range_and_ignore_order(spec, data):
    answer = random_answer(data.draw, spec)
    assert nnl.validate(spec, answer) == []
    result = nnl.grade(spec, answer)
    assert 0 <= result.score <= 1
    assert result.max_points == len(spec.cards) + sum(r.points for r in spec.rules)
    entries = data.draw(st.permutations(list(answer["placements"].items())))
    assert nnl.grade(spec, {"placements": dict(entries)}).score == result.score


@settings(max_examples=60, deadline=None)
@given(specs())
def test_model_answer_always_scores_one(spec):
    assert nnl.grade(spec, nnl.model_answer(spec)).score == 1


@settings(max_examples=60, deadline=None)
@given(specs(), st.data())
def test_corrupted_answers_rejected(spec, data):
    form = {f"place-{k}": [v] for k, v in random_answer(data.draw, spec)["placements"].items()}
    field = data.draw(st.sampled_from(sorted(form)))
    corruption = data.draw(st.sampled_from(["drop", "unknown", "duplicate", "bad-column"]))
    if corruption == "drop":
        del form[field]
    elif corruption == "unknown":
        form["place-not-a-card"] = ["now"]
    elif corruption == "duplicate":
        form[field] = form[field] * 2
    else:
        form[field] = ["roadmap"]
    assert nnl.validate(spec, nnl.answer_from_form(spec, form))


@pytest.mark.parametrize("off_card", ["shopping-list", "nutrition-goals"])
def test_precedence_broken_when_either_card_leaves_the_roadmap(off_card):
    result = grade(**{off_card: "off"})
    assert not result.rules[1].passed and result.rules[1].points == 0
    assert "is off the roadmap" in result.rules[1].message
