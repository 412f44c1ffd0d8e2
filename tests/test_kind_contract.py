"""The contract every exercise kind keeps, checked over every registered kind.

Each kind is exercised on the course's own exercises of that kind: its model answer scores
1, broken answers are refused, its form posts back the answer it shows (through the real
template partial, read the way a browser submits it), its answer partial renders, and its
misconception classes are stable. A new kind gets all of this by its registry line.
"""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from course.content.schema import Exercise
from course.grading import registry
from course.grading.base import InvalidAnswer
from course.grading.kind import ExerciseKind
from course.services.attempts.reads import Standing
from course.services.attempts.report import attempt_report
from tests.helpers import course_at

COURSE = course_at()


def exercises_of(kind: str) -> list[Exercise]:
    return [e for e in COURSE.exercises if e.kind == kind]


CASES = [pytest.param(e, id=e.id) for name in registry.KINDS for e in exercises_of(name)]


class Learner:
    """A DemoLearner that always or never knows, and always makes the first mistake."""

    def __init__(self, knows: bool):
        self.knowing = knows

    def knows(self, item_id: str) -> bool:
        return self.knowing

    def mistake(self, item_id: str, wrong: Sequence[str]) -> str:
        return wrong[0]

    def write(self, topic: str) -> str:
        return f"Some careful thoughts about {topic}."


def kind(exercise: Exercise) -> ExerciseKind:
    return registry.kind_of(exercise)


def sample_answer(exercise: Exercise) -> Any:
    """The model answer, or a written one for kinds a person grades."""
    model = kind(exercise).model_answer(exercise.spec)
    return model if model is not None else kind(exercise).demo_answer(exercise.spec,
                                                                        Learner(True))


class SubmittedFields(HTMLParser):
    """The fields a browser would submit from a piece of HTML: checked radios and
    checkboxes, selected options, text areas and other inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: MultiDict[str, str] = MultiDict()
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.add(name, a.get("value") or "on")
            else:
                self.fields.add(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.fields.add(self._select, self._select_value or "")
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.add(self._textarea, self._text)
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def render_partial(app, exercise: Exercise, call: str, **context: Any) -> str:
    template = app.jinja_env.from_string(
        "{% import kind.PARTIAL as partial %}{{ partial." + call + " }}")
    with app.test_request_context():
        return template.render(kind=kind(exercise), exercise=exercise, **context)


def test_every_kind_has_an_exercise_to_check_it_on():
    assert {e.kind for e in COURSE.exercises} >= set(registry.KINDS)


@pytest.mark.parametrize("name", sorted(registry.KINDS))
def test_the_registry_holds_each_kind_under_its_own_name(name):
    assert name == registry.get_kind(name).KIND


@pytest.mark.parametrize("exercise", CASES)
def test_the_model_answer_scores_1(exercise):
    answer = sample_answer(exercise)
    assert kind(exercise).validate(exercise.spec, answer) == []
    result = kind(exercise).grade(exercise.spec, answer)
    if kind(exercise).AUTO_GRADED:
        assert result.score == 1 and not result.pending
    else:
        assert result.pending and result.score == 0 and kind(exercise).rubric(exercise.spec)


@pytest.mark.parametrize("exercise", CASES)
def test_a_corrupted_answer_is_refused(exercise):
    k = kind(exercise)
    form = k.form_from_answer(exercise.spec, sample_answer(exercise))
    dropped = dict(list(form.items())[1:])
    first, values = next(iter(form.items()))
    # An extra field is refused either by its name (submit checks is_answer_field) or,
    # when the kind would read it, as an item the exercise does not have.
    extra = {**form, first + "-not-an-item": values}
    broken_answers = [None, {}, [], "text", k.answer_from_form(exercise.spec, dropped)]
    if k.is_answer_field(first + "-not-an-item"):
        broken_answers.append(k.answer_from_form(exercise.spec, extra))
    for broken in broken_answers:
        problems = k.validate(exercise.spec, broken)
        assert problems and all(isinstance(p, str) and p for p in problems), broken
        with pytest.raises(InvalidAnswer):
            k.grade(exercise.spec, broken)
    assert not k.is_answer_field("csrf_token") and not k.is_answer_field("anything")


@pytest.mark.parametrize("exercise", CASES)
def test_the_form_round_trips_through_its_partial(app, exercise):
    """Fill the kind's form with an answer, read the rendered HTML as a browser submits
    it, and get the same answer back."""
    k = kind(exercise)
    answer = sample_answer(exercise)
    form = k.form_from_answer(exercise.spec, answer)
    assert all(k.is_answer_field(name) for name in form)
    assert k.answer_from_form(exercise.spec, form) == answer
    html = render_partial(app, exercise, "form(exercise, kind, posted)",
                          posted=MultiDict([(n, v) for n, vs in form.items() for v in vs]))
    parser = SubmittedFields()
    parser.feed(html)
    posted = {n: parser.fields.getlist(n) for n in parser.fields}
    assert k.answer_from_form(exercise.spec, posted) == answer


@pytest.mark.parametrize("exercise", CASES)
def test_the_answer_partial_shows_every_item(app, exercise):
    k = kind(exercise)
    answer = k.demo_answer(exercise.spec, Learner(False))
    result = k.grade(exercise.spec, answer)
    attempt = SimpleNamespace(id=1, number=1, answer=answer, feedback=result.feedback_json(),
                              exercise_version=exercise.version,
                              passed=False, score=None if result.pending else result.score)
    report = attempt_report(exercise, attempt, Standing(used=1, passed=False, last_id=1),
                            reveal=True)
    html = render_partial(app, exercise, "answer(report, kind)", report=report)
    for item_id, text in k.item_texts(exercise.spec).items():
        shown = render_partial(app, exercise, "item_text(text)", text=text)
        assert shown.strip() and (str(escape(text)) in html or shown in html), item_id


@pytest.mark.parametrize("exercise", CASES)
def test_misconception_classes_are_stable(exercise):
    k = kind(exercise)
    spec = exercise.spec
    if not k.AUTO_GRADED:
        assert k.classify(spec, sample_answer(exercise)) == []
        return
    right = k.classify(spec, sample_answer(exercise))
    assert right and all(v.correct and not v.mistakes for v in right)
    wrong_answer = k.demo_answer(spec, Learner(False))
    wrong = k.classify(spec, wrong_answer)
    assert wrong == k.classify(spec, wrong_answer)
    assert {v.item_id for v in wrong} <= set(k.item_texts(spec))
    mistakes = [(v.item_id, m) for v in wrong for m in v.mistakes]
    assert mistakes and not any(v.correct for v in wrong if v.mistakes)
    for item_id, mistake in mistakes:
        assert k.mistake_label(spec, item_id, mistake).strip()
