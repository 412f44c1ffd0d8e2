"""kind: review -- prompts, board answers, pending results, rubric scoring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.grading import review
from course.grading.base import InvalidAnswer
from course.grading.rubric import score_rubric
from tests.unit.specs import builder, changer, problems_of

SPEC = {
    "prompts": [
        {"id": "vision", "label": "Your vision statement", "help": "Keep it *short*.",
         "format": "text", "max_length": 50, "covers": ["vision"]},
        {"id": "roadmap", "label": "Your roadmap", "format": "board", "max_length": 20},
    ],
    "rubric": [
        {"id": "aspirational", "title": "Aspirational and short", "levels": [
            {"points": 0, "label": "Missing", "description": "No vision."},
            {"points": 1, "label": "Partial", "description": "Too long."},
            {"points": 2, "label": "Strong", "description": "Short and punchy."}]},
        {"id": "outcomes", "title": "Outcomes, not features", "levels": [
            {"points": 3, "label": "Outcomes", "description": "Every card an outcome."},
            {"points": 0, "label": "Features", "description": "A feature list."}]},
    ],
}
BOARD = [{"column": "now", "text": "Plan faster"}, {"column": "next", "text": "Share lists"},
         {"column": "later", "text": "Eat better"}]
GOOD = {"responses": {"vision": "Dinner, sorted.", "roadmap": BOARD}}








# ------------------------------------------------------------------------------ spec


build = builder(review)
spec_problems = problems_of(review)
changed = changer(SPEC)


def test_parse_valid_spec():
    spec = build(SPEC)
    assert [(p.id, p.format, p.max_length) for p in spec.prompts] == [
        ("vision", "text", 50), ("roadmap", "board", 20)]
    assert spec.prompts[0].help == "Keep it *short*."
    assert spec.prompts[0].covers == ("vision",)
    assert review.max_points(spec) == 5


def test_defaults():
    spec = build(changed(("prompts", 0, "max_length"), None))
    assert spec.prompts[0].max_length == 2000
    assert spec.prompts[1].help == ""


@pytest.mark.parametrize(("path", "value", "field", "fragment"), [
    (("prompts", 0, "format"), "essay", "prompts['vision'].format",
     "'essay' is not allowed here; use 'text' or 'board'"),
    (("prompts", 0, "max_length"), 0, "prompts['vision'].max_length", "at least 1"),
    (("prompts", 0, "label"), None, "prompts['vision'].label", "required"),
    (("prompts", 1, "id"), "vision", "prompts['vision'].id", "duplicate"),
    (("rubric", 1, "id"), "aspirational", "rubric['aspirational'].id", "duplicate"),
    (("rubric", 0, "levels"), [{"points": 1, "label": "Only", "description": "x"}],
     "rubric['aspirational'].levels", "at least 2"),
    (("rubric", 0, "levels", 1, "points"), 2, "rubric['aspirational'].levels[2].points",
     "another level already gives 2 points"),
    (("rubric", 0, "levels", 1, "points"), -1, "rubric['aspirational'].levels[1].points",
     "at least 0"),
    (("rubric", 0, "levels", 1, "description"), None,
     "rubric['aspirational'].levels[1].description", "required"),
    (("rubric", 0, "title"), "", "rubric['aspirational'].title", "empty"),
    (("rubric",), [], "rubric", "at least 1"),
])
def test_parse_reports_field(path, value, field, fragment):
    problems = spec_problems(changed(path, value))
    assert field in problems, problems
    assert fragment in problems[field]


# -------------------------------------------------------------------------- answers


def board_form(cards):
    return {"card-roadmap-column": [c["column"] for c in cards],
            "card-roadmap-text": [c["text"] for c in cards]}


def test_form_to_answer():
    spec = build(SPEC)
    form = {"r-vision": ["Dinner, sorted."], "csrf_token": ["t"],
            **board_form([*BOARD, {"column": "later", "text": "  "}])}
    form["card-roadmap-text"][0] = "  Plan faster "
    answer = review.answer_from_form(spec, form)
    assert answer == GOOD
    assert review.validate(spec, answer) == []


def test_unequal_pairs_are_zipped_in_order():
    spec = build(SPEC)
    form = {"r-vision": ["x"], "card-roadmap-column": ["now", "next"],
            "card-roadmap-text": ["A", "B", "C"]}
    cards = review.answer_from_form(spec, form)["responses"]["roadmap"]
    assert cards == [{"column": "now", "text": "A"}, {"column": "next", "text": "B"},
                     {"column": "", "text": "C"}]


@pytest.mark.parametrize(("responses", "fragment"), [
    ({"vision": "   "}, "Answer every prompt: 'Your vision statement' is empty."),
    ({"vision": "x" * 51}, "51 characters long; the limit is 50"),
    ({"vision": ["a", "b"]}, "sent more than once"),
    ({"roadmap": []}, "'Your roadmap' is empty"),
    ({"roadmap": BOARD[:2]}, "needs at least one card in Later"),
    ({"roadmap": [*BOARD, {"column": "off", "text": "Bug"}]}, "not in Now, Next or Later"),
    ({"roadmap": [*BOARD, {"column": "now", "text": "x" * 21}]}, "keep each card to 20"),
    ({"roadmap": [*BOARD, {"column": "now", "text": ""}]}, "card 4 has no text"),
    ({"roadmap": BOARD * 11}, "use at most 30"),
    ({"roadmap": "text"}, "expects Now / Next / Later cards"),
    ({"extra": "hi"}, "no prompt 'extra'"),
])
def test_validate_rejects(responses, fragment):
    problems = review.validate(build(SPEC), {"responses": {**GOOD["responses"], **responses}})
    assert len(problems) == 1 and fragment in problems[0], problems


def test_missing_prompts_are_named():
    problems = review.validate(build(SPEC), {"responses": {}})
    assert any("'Your vision statement'" in p for p in problems)
    assert any("'Your roadmap'" in p for p in problems)


def test_grade_is_pending():
    spec = build(SPEC)
    result = review.grade(spec, GOOD)
    assert result.pending
    assert (result.score, result.points, result.max_points) == (0, 0, 5)
    assert [i.item_id for i in result.items] == ["vision", "roadmap"]
    assert all(i.credit == 0 for i in result.items)


def test_grade_rejects_invalid():
    with pytest.raises(InvalidAnswer):
        review.grade(build(SPEC), {"responses": {"vision": ""}})


def test_model_answer_is_none():
    assert review.model_answer(build(SPEC)) is None


# ---------------------------------------------------------------------------- rubric


def test_score_rubric():
    result = score_rubric(build(SPEC).rubric, {"aspirational": 1, "outcomes": 3})
    assert not result.pending
    assert result.score == pytest.approx(4 / 5)
    first = result.items[0]
    assert (first.item_id, first.credit, first.max_credit, first.given) == (
        "aspirational", 1, 2, ("1",))
    assert (first.hint, first.explanation) == ("Partial", "Too long.")


def test_score_rubric_accepts_form_strings():
    result = score_rubric(build(SPEC).rubric, {"aspirational": "2", "outcomes": "0"})
    assert result.score == pytest.approx(2 / 5)
    assert result.items[0].given == ("2",)


@pytest.mark.parametrize(("levels", "fragment"), [
    ({"aspirational": 2}, "Choose a level for 'Outcomes, not features'"),
    ({"aspirational": 5, "outcomes": 3}, "Choose a level for 'Aspirational and short'"),
    ({"aspirational": "lots", "outcomes": 3}, "Choose a level"),
    ({"aspirational": 2, "outcomes": 3, "style": 1}, "no criterion 'style'"),
])
def test_score_rubric_rejects(levels, fragment):
    with pytest.raises(InvalidAnswer) as err:
        score_rubric(build(SPEC).rubric, levels)
    assert any(fragment in p for p in err.value.problems), err.value.problems


# ------------------------------------------------------------------------ properties


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_rubric_scores_in_range_and_best_scores_one(data):
    spec = build(SPEC)
    levels = {c.id: data.draw(st.sampled_from([lv.points for lv in c.levels]))
              for c in spec.rubric}
    result = score_rubric(spec.rubric, levels)
    assert 0 <= result.score <= 1
    entries = data.draw(st.permutations(list(levels.items())))
    assert score_rubric(spec.rubric, dict(entries)).score == result.score
    best = {c.id: c.max_points for c in spec.rubric}
    assert score_rubric(spec.rubric, best).score == 1


cards = st.lists(st.fixed_dictionaries({
    "column": st.sampled_from(["now", "next", "later"]),
    "text": st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                    max_size=20)}), max_size=20)


@settings(max_examples=60, deadline=None)
@given(cards, st.data())
def test_board_forms_round_trip_and_corruptions_rejected(extra, data):
    spec = build(SPEC)
    board = data.draw(st.permutations([*BOARD, *extra]))
    form = {"r-vision": ["Dinner, sorted."], **board_form(board)}
    answer = review.answer_from_form(spec, form)
    assert answer["responses"]["roadmap"] == board
    assert review.validate(spec, answer) == []
    corruption = data.draw(st.sampled_from(["drop", "unknown", "duplicate"]))
    if corruption == "drop":
        del form[data.draw(st.sampled_from(sorted(form)))]
    elif corruption == "unknown":
        form["r-not-a-prompt"] = ["hi"]
    else:
        form["r-vision"] = form["r-vision"] * 2
    assert review.validate(spec, review.answer_from_form(spec, form))
