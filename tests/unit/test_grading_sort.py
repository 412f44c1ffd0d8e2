"""kind: sort -- spec checks, answer validation and scoring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.grading import sort
from course.grading.base import InvalidAnswer
from tests.unit.specs import builder, problems_of, read

SPEC = {
    "buckets": [
        {"id": "roadmap", "label": "Roadmap", "description": "Outcomes"},
        {"id": "backlog", "label": "Backlog"},
    ],
    "items": [
        {"id": "plan-fast", "text": "Households plan dinners in ten minutes",
         "bucket": "roadmap", "hint": "Result or work?", "explanation": "An outcome.",
         "covers": ["roadmap-vs-backlog"]},
        {"id": "fix-eggs", "text": "Fix the duplicated eggs", "bucket": "backlog",
         "hint": "How big is it?", "explanation": "A bug fix."},
        {"id": "export-pdf", "text": "Export the list as PDF", "bucket": "backlog",
         "hint": "Who asked?", "explanation": "A feature request."},
    ],
}


build = builder(sort)
spec_problems = problems_of(sort)


def with_item(**changes):
    items = [dict(i) for i in SPEC["items"]]
    items[1].update(changes)
    items[1] = {k: v for k, v in items[1].items() if v is not None}
    return {"buckets": SPEC["buckets"], "items": items}


def form_of(placements: dict[str, str]) -> dict[str, list[str]]:
    return {f"place-{k}": [v] for k, v in placements.items()}


# ------------------------------------------------------------------------------ spec


def test_parse_valid_spec():
    spec = build(SPEC)
    assert [b.id for b in spec.buckets] == ["roadmap", "backlog"]
    assert spec.items[0].bucket == "roadmap"
    assert spec.buckets[0].description == "Outcomes"
    assert spec.items[0].covers == ("roadmap-vs-backlog",)


@pytest.mark.parametrize(("data", "field", "fragment"), [
    (with_item(bucket="roadmap "), "items['fix-eggs'].bucket", "'roadmap ' is not a bucket"),
    (with_item(bucket=None), "items['fix-eggs'].bucket", "required"),
    (with_item(id="plan-fast"), "items['plan-fast'].id", "duplicate"),
    (with_item(id="has space"), "items['has space'].id", "must be lowercase"),
    (with_item(hint=None), "items['fix-eggs'].hint", "required"),
    (with_item(explanation=""), "items['fix-eggs'].explanation", "empty"),
    (with_item(text=3), "items['fix-eggs'].text", "text"),
    (with_item(hnit="typo"), "items['fix-eggs'].hnit", "unknown field"),
    ({"buckets": [{"id": "a", "label": "A"}], "items": SPEC["items"]}, "buckets",
     "at least 2"),
    ({"buckets": SPEC["buckets"] + [{"id": "backlog", "label": "B"}], "items": SPEC["items"]},
     "buckets['backlog'].id", "duplicate"),
    ({"buckets": SPEC["buckets"]}, "items", "required"),
    ({"buckets": SPEC["buckets"], "items": ["x"]}, "items[0]", "block of `field: value` lines"),
])
def test_parse_reports_field(data, field, fragment):
    problems = spec_problems(data)
    assert field in problems, problems
    assert fragment in problems[field]


def test_one_fact_may_be_written_without_a_list():
    assert build(with_item(covers="vision")).items[1].covers == ("vision",)


def test_parse_reports_every_problem_at_once():
    data = with_item(text=3, hint=None)
    assert {"items['fix-eggs'].text", "items['fix-eggs'].hint"} <= set(spec_problems(data))


# -------------------------------------------------------------------------- validate

FULL = {"plan-fast": "roadmap", "fix-eggs": "backlog", "export-pdf": "roadmap"}


def test_form_to_answer_round_trip():
    spec = build(SPEC)
    answer = sort.answer_from_form(spec, {**form_of(FULL), "csrf_token": ["x"]})
    assert answer == {"placements": FULL}
    assert sort.validate(spec, answer) == []


def test_missing_item_is_named():
    spec = build(SPEC)
    answer = sort.answer_from_form(spec, form_of({"plan-fast": "roadmap",
                                                  "export-pdf": "backlog"}))
    assert sort.validate(spec, answer) == [
        "Place every item: 'Fix the duplicated eggs' is not in a bucket yet."]


def test_untouched_board_names_every_item_and_its_field():
    spec = build(SPEC)
    answer = sort.answer_from_form(spec, {f"place-{i['id']}": [""] for i in SPEC["items"]})
    assert answer == {"placements": {}}
    problems = sort.validate(spec, answer)
    # One problem per item, each naming the field the error summary links to.
    assert [p.field for p in problems] == [f"place-{i['id']}" for i in SPEC["items"]]
    assert "Place every item: 'Export the list as PDF' is not in a bucket yet." in problems


def test_duplicated_field_is_placed_twice():
    spec = build(SPEC)
    form = form_of(FULL)
    form["place-fix-eggs"] = ["backlog", "roadmap"]
    problems = sort.validate(spec, sort.answer_from_form(spec, form))
    assert problems == ["'Fix the duplicated eggs' was placed more than once; "
                        "put it in one bucket."]


def test_unknown_item_and_bucket_rejected():
    spec = build(SPEC)
    problems = sort.validate(spec, {"placements": {**FULL, "xyz": "roadmap",
                                                   "fix-eggs": "icebox"}})
    assert any("no item called 'xyz'" in p for p in problems)
    assert any("'Fix the duplicated eggs' was put in 'icebox'" in p for p in problems)


@pytest.mark.parametrize("answer", [None, [], {}, {"placements": []}, "roadmap"])
def test_malformed_answers_rejected(answer):
    assert sort.validate(build(SPEC), answer)


def test_grade_requires_valid_answer():
    with pytest.raises(InvalidAnswer) as err:
        sort.grade(build(SPEC), {"placements": {}})
    assert "Place every item" in err.value.problems[0]


# ----------------------------------------------------------------------------- grade


def test_grade_worked_example():
    spec = build(SPEC)
    result = sort.grade(spec, {"placements": FULL})
    assert result.score == pytest.approx(2 / 3)
    assert (result.points, result.max_points) == (2, 3)
    wrong = result.items[2]
    assert (wrong.item_id, wrong.credit, wrong.given, wrong.expected) == (
        "export-pdf", 0.0, ("roadmap",), ("backlog",))
    assert (wrong.hint, wrong.explanation) == ("Who asked?", "A feature request.")
    assert result.items[0].correct and not result.pending


# ------------------------------------------------------------------------ properties


@st.composite
def specs(draw):
    n_buckets = draw(st.integers(2, 4))
    n_items = draw(st.integers(1, 8))
    return build({
        "buckets": [{"id": f"b{i}", "label": f"Bucket {i}"} for i in range(n_buckets)],
        "items": [{"id": f"i{j}", "text": f"Item {j}", "hint": "h", "explanation": "e",
                   "bucket": f"b{draw(st.integers(0, n_buckets - 1))}"}
                  for j in range(n_items)],
    })


def complete_answer(draw, spec):
    buckets = [b.id for b in spec.buckets]
    return {"placements": {i.id: draw(st.sampled_from(buckets)) for i in spec.items}}


@settings(max_examples=60, deadline=None)
@given(specs(), st.data())
def test_random_complete_answers_score_in_range_and_ignore_order(spec, data):
    answer = complete_answer(data.draw, spec)
    assert sort.validate(spec, answer) == []
    result = sort.grade(spec, answer)
    assert 0 <= result.score <= 1
    correct = sum(answer["placements"][i.id] == i.bucket for i in spec.items)
    assert result.score == pytest.approx(correct / len(spec.items))
    entries = data.draw(st.permutations(list(answer["placements"].items())))
    assert sort.grade(spec, {"placements": dict(entries)}).score == result.score


@settings(max_examples=40, deadline=None)
@given(specs())
def test_model_answer_always_scores_one(spec):
    assert sort.grade(spec, sort.model_answer(spec)).score == 1


@settings(max_examples=60, deadline=None)
@given(specs(), st.data())
def test_corrupted_answers_rejected(spec, data):
    form = form_of(complete_answer(data.draw, spec)["placements"])
    field = data.draw(st.sampled_from(sorted(form)))
    corruption = data.draw(st.sampled_from(["drop", "unknown", "duplicate", "bad-bucket"]))
    if corruption == "drop":
        del form[field]
    elif corruption == "unknown":
        form["place-not-an-item"] = [spec.buckets[0].id]
    elif corruption == "duplicate":
        form[field] = form[field] * 2
    else:
        form[field] = ["not-a-bucket"]
    assert sort.validate(spec, sort.answer_from_form(spec, form))


def test_an_item_in_two_buckets_is_refused_by_name():
    _spec, problems = read(sort, {
        "buckets": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}],
        "items": [{"id": "i", "text": "t", "bucket": ["a", "b"], "hint": "h",
                   "explanation": "e"}]})
    assert [str(p) for p in problems] == [
        "exercises/x.yaml: items['i'].bucket: an item belongs in exactly one bucket; it names 2"]
