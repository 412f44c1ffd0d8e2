"""kind: quiz -- question types, per-question scoring, option feedback."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from course.grading import quiz
from course.grading.base import InvalidAnswer
from tests.unit.specs import builder, changer, problems_of


def option(oid, correct=False):
    return {"id": oid, "text": f"Option {oid}", "correct": correct,
            "feedback": f"feedback {oid}"}


SPEC = {
    "questions": [
        {"id": "vision-length", "type": "single", "prompt": "How long is a vision?",
         "options": [option("a", True), option("b"), option("c")]},
        {"id": "roadmap-parts", "type": "multiple", "prompt": "What goes on a roadmap?",
         "points": 2,
         "options": [option("a", True), option("b", True), option("c"), option("d")]},
        {"id": "backlog-order", "type": "true_false", "prompt": "A backlog is ordered.",
         "options": [option("true", True), option("false")]},
    ],
}
MODEL = {"vision-length": ["a"], "roadmap-parts": ["a", "b"], "backlog-order": ["true"]}


build = builder(quiz)
spec_problems = problems_of(quiz)
changed = changer(SPEC)


def grade(**choices):
    return quiz.grade(build(SPEC), {"choices": {**MODEL, **choices}})


# ------------------------------------------------------------------------------ spec


def test_parse_valid_spec():
    spec = build(SPEC)
    assert [q.type for q in spec.questions] == ["single", "multiple", "true_false"]
    assert [q.points for q in spec.questions] == [1, 2, 1]
    assert spec.questions[1].correct_ids == ("a", "b")


def test_true_false_ids_may_be_bare_yaml_booleans():
    data = yaml.safe_load("""
questions:
  - id: q
    type: true_false
    prompt: Yes?
    options:
      - {id: true, text: "True", correct: true, feedback: Right.}
      - {id: false, text: "False", feedback: No.}
""")
    assert [o.id for o in build(data).questions[0].options] == ["true", "false"]


@pytest.mark.parametrize(("path", "value", "field", "fragment"), [
    (("questions", 0, "options", 1, "correct"), True, "questions['vision-length'].options",
     "exactly one option with `correct: true` (found 2)"),
    (("questions", 0, "options", 0, "correct"), False, "questions['vision-length'].options",
     "no option says `correct: true` (an option is false unless it says so)"),
    (("questions", 2, "options", 1, "correct"), True, "questions['backlog-order'].options",
     "exactly one option"),
    (("questions", 2, "options", 1, "id"), "no", "questions['backlog-order'].options",
     "ids true and false"),
    (("questions", 2, "options"), [option("true", True), option("false"), option("maybe")],
     "questions['backlog-order'].options", "ids true and false"),
    (("questions", 1, "options", 0, "correct"), False, None, None),
    (("questions", 0, "options", 1, "id"), "a", "questions['vision-length'].options['a'].id",
     "duplicate"),
    (("questions", 0, "options", 1, "text"), "Option a",
     "questions['vision-length'].options['b'].text", "duplicate text"),
    (("questions", 1, "id"), "vision-length", "questions['vision-length'].id", "duplicate"),
    (("questions", 0, "options", 2, "feedback"), None,
     "questions['vision-length'].options['c'].feedback", "required"),
    (("questions", 0, "options", 2, "text"), "",
     "questions['vision-length'].options['c'].text", "empty"),
    (("questions", 0, "prompt"), None, "questions['vision-length'].prompt", "required"),
    (("questions", 0, "type"), "essay", "questions['vision-length'].type",
     "'essay' is not allowed here; use 'single', 'multiple' or 'true_false'"),
    (("questions", 0, "points"), 0, "questions['vision-length'].points", "more than 0"),
    (("questions", 0, "options", 0, "correct"), "yes",
     "questions['vision-length'].options['a'].correct", "true or false"),
    (("questions", 0, "options"), [option("a", True)], "questions['vision-length'].options",
     "at least 2"),
])
def test_parse_reports_field(path, value, field, fragment):
    data = changed(path, value)
    if field is None:  # a multiple question with one correct option left is fine
        build(data)
        return
    problems = spec_problems(data)
    assert field in problems, problems
    assert fragment in problems[field]


def test_multiple_needs_a_correct_option():
    data = changed(("questions", 1, "options", 0, "correct"), False)
    data["questions"][1]["options"][1]["correct"] = False
    assert "no option says `correct: true`" in (
        spec_problems(data)["questions['roadmap-parts'].options"])


# -------------------------------------------------------------------------- validate


def form_of(choices):
    return {f"q-{k}": list(v) for k, v in choices.items()}


def test_form_to_answer():
    spec = build(SPEC)
    answer = quiz.answer_from_form(spec, {**form_of(MODEL), "csrf_token": ["t"]})
    assert answer == {"choices": MODEL}
    assert quiz.validate(spec, answer) == []


def test_unanswered_question_is_named():
    spec = build(SPEC)
    answer = quiz.answer_from_form(spec, form_of({"vision-length": ["a"],
                                                  "backlog-order": ["true"]}))
    assert quiz.validate(spec, answer) == [
        "Answer every question: question 2 ('What goes on a roadmap?') has no answer yet."]


@pytest.mark.parametrize(("choices", "fragment"), [
    ({"vision-length": ["a", "b"]}, "takes exactly one answer"),
    ({"backlog-order": ["true", "false"]}, "takes exactly one answer"),
    ({"vision-length": ["z"]}, "has no option 'z'"),
    ({"backlog-order": ["a"]}, "has no option 'a'"),
    ({"roadmap-parts": ["a", "a"]}, "picked twice"),
    ({"roadmap-parts": []}, "has no answer yet"),
    ({"roadmap-parts": "a"}, "not a list"),
    ({"who-knows": ["a"]}, "no question 'who-knows'"),
])
def test_validate_rejects(choices, fragment):
    problems = quiz.validate(build(SPEC), {"choices": {**MODEL, **choices}})
    assert len(problems) == 1 and fragment in problems[0], problems


def test_grade_rejects_invalid():
    with pytest.raises(InvalidAnswer):
        quiz.grade(build(SPEC), {"choices": {}})


# ----------------------------------------------------------------------------- grade


def test_model_answer_scores_one():
    result = grade()
    assert result.score == 1 and result.max_points == 4


def test_wrong_single_choice():
    result = grade(**{"vision-length": ["b"]})
    item = result.items[0]
    assert (item.credit, item.max_credit, item.given, item.expected) == (0, 1, ("b",), ("a",))
    assert item.hint == "feedback b"
    assert item.explanation == "feedback a"
    assert result.score == pytest.approx(3 / 4)


@pytest.mark.parametrize(("picks", "credit"), [
    (["a", "b"], 2),
    (["a"], 1),            # (1 - 0) / 2 x 2 points
    (["a", "c"], 0),       # (1 - 1) / 2
    (["a", "b", "c"], 1),  # (2 - 1) / 2 x 2
    (["c", "d"], 0),       # negative, clamped
    (["a", "b", "c", "d"], 0),
])
def test_multiple_partial_credit(picks, credit):
    item = grade(**{"roadmap-parts": picks}).items[1]
    assert item.credit == pytest.approx(credit)
    assert item.max_credit == 2


def test_multiple_feedback_lists_chosen_and_correct_options_in_question_order():
    item = grade(**{"roadmap-parts": ["c", "a"]}).items[1]
    assert item.given == ("a", "c")
    assert item.hint == "feedback a feedback c"
    assert item.explanation == "feedback a feedback b"


# ------------------------------------------------------------------------ properties


@st.composite
def specs(draw):
    questions = []
    for j in range(draw(st.integers(1, 5))):
        qtype = draw(st.sampled_from(quiz.QUESTION_TYPES))
        if qtype == "true_false":
            right = draw(st.booleans())
            options = [option("true", right), option("false", not right)]
        else:
            n = draw(st.integers(2, 5))
            flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            if qtype == "single":
                flags = [False] * n
                flags[draw(st.integers(0, n - 1))] = True
            elif not any(flags):
                flags[0] = True
            options = [option(f"o{k}", f) for k, f in enumerate(flags)]
        questions.append({"id": f"q{j}", "type": qtype, "prompt": f"Question {j}?",
                          "points": draw(st.integers(1, 3)), "options": options})
    return build({"questions": questions})


def random_answer(draw, spec):
    choices = {}
    for q in spec.questions:
        ids = [o.id for o in q.options]
        if q.type == "multiple":
            choices[q.id] = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
        else:
            choices[q.id] = [draw(st.sampled_from(ids))]
    return {"choices": choices}


@settings(max_examples=80, deadline=None)
@given(specs(), st.data())
def test_random_answers_score_in_range_and_ignore_order(spec, data):
    answer = random_answer(data.draw, spec)
    assert quiz.validate(spec, answer) == []
    result = quiz.grade(spec, answer)
    assert 0 <= result.score <= 1
    shuffled = {k: data.draw(st.permutations(v))
                for k, v in data.draw(st.permutations(list(answer["choices"].items())))}
    assert quiz.grade(spec, {"choices": shuffled}).score == result.score


@settings(max_examples=60, deadline=None)
@given(specs())
def test_model_answer_always_scores_one(spec):
    assert quiz.grade(spec, quiz.model_answer(spec)).score == 1


@settings(max_examples=80, deadline=None)
@given(specs(), st.data())
def test_corrupted_answers_rejected(spec, data):
    form = form_of(random_answer(data.draw, spec)["choices"])
    field = data.draw(st.sampled_from(sorted(form)))
    corruption = data.draw(st.sampled_from(["drop", "unknown", "duplicate", "bad-option"]))
    if corruption == "drop":
        del form[field]
    elif corruption == "unknown":
        form["q-not-a-question"] = ["a"]
    elif corruption == "duplicate":
        form[field] = form[field] * 2
    else:
        form[field] = [*form[field], "not-an-option"]
    assert quiz.validate(spec, quiz.answer_from_form(spec, form))
