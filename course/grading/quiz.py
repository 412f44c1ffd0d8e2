"""kind: quiz -- single-choice, multiple-choice and true/false questions.

Scoring per question, scaled by the question's `points` (default 1):
  * single, true_false: credit = 1 if the chosen option is correct, else 0;
  * multiple: credit = max(0, (right picks - wrong picks) / number of right options),
    so ticking every box earns nothing and a partly right selection earns part.
score = sum of credit x points / sum of points.

Every option carries its own `feedback`. While attempts remain the learner sees the
feedback of the options they chose (the `hint`), so authors write it to explain without
revealing the answer; the `explanation` (shown with the model answer) is the feedback of
the correct options.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool

from course.content.fields import (
    Block,
    FactIds,
    Id,
    KindSpec,
    Location,
    Points,
    Text,
    Wording,
)
from course.grading.base import (
    AnswerProblem,
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    Verdict,
    result_from,
)

KIND = "quiz"
LABEL = "Quiz"
AUTO_GRADED = True
PARTIAL = "kinds/quiz.html"
MISTAKE_NOUN = "answer"
QUESTION_TYPES = ("single", "multiple", "true_false")
FIELD_PREFIX = "q-"


def _bare_option_id(value: Any) -> Any:
    """Option ids may be written bare in YAML: `id: true` is a boolean, `id: 1` a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else value


class Option(Block):
    """`correct` defaults to false: list the right options with `correct: true`."""

    id: Annotated[Id, BeforeValidator(_bare_option_id)]
    text: Text
    correct: StrictBool = False
    feedback: Wording


class Question(Block):
    id: Id
    type: Literal["single", "multiple", "true_false"]
    prompt: Text  # Markdown, kept raw; the web layer renders it
    points: Points = 1.0
    options: Annotated[tuple[Option, ...], Field(min_length=2)]
    covers: FactIds = ()

    @property
    def correct_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options if o.correct)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def problems(self) -> Iterator[str]:
        """A correct-answer key that fits the question's type."""
        n_correct = len(self.correct_ids)
        if n_correct == 0:
            yield ("no option says `correct: true` (an option is false unless it says so); "
                   "mark the right answer")
        elif self.type != "multiple" and n_correct != 1:
            yield (f"a {self.type} question needs exactly one option with `correct: true` "
                   f"(found {n_correct})")
        if self.type == "true_false" and sorted(o.id for o in self.options) != ["false",
                                                                               "true"]:
            yield "a true_false question has exactly two options, with ids true and false"


class QuizSpec(KindSpec):
    """Each question needs a key that fits its type and feedback on every option (that
    feedback is the only hint a learner gets)."""

    questions: Annotated[tuple[Question, ...], Field(min_length=1)]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def problems(self) -> Iterator[tuple[Location, str]]:
        for i, question in enumerate(self.questions):
            for message in question.problems():
                yield ("questions", i, "options"), message


Spec = QuizSpec


# --------------------------------------------------------------------------- answers


def is_answer_field(name: str) -> bool:
    return name.startswith(FIELD_PREFIX)


def answer_from_form(spec: QuizSpec, form: FormData) -> dict[str, Any]:
    """`q-<question_id>` = option id (repeated for multiple). Empty values are dropped."""
    choices: dict[str, list[str]] = {}
    for name, values in form.items():
        if name.startswith(FIELD_PREFIX):
            chosen = [v for v in values if v != ""]
            if chosen:
                choices[name[len(FIELD_PREFIX):]] = list(chosen)
    return {"choices": choices}


def form_from_answer(spec: QuizSpec, answer: Any) -> dict[str, list[str]]:
    return {f"{FIELD_PREFIX}{qid}": list(chosen) for qid, chosen in answer["choices"].items()}


def _name(number: int, question: Question) -> str:
    """How messages name a question: its number and the start of its prompt."""
    prompt = " ".join(question.prompt.split())
    if len(prompt) > 60:
        prompt = prompt[:57].rstrip() + "..."
    return f"question {number} ('{prompt}')"


def _unknown_questions(spec: QuizSpec, choices: Mapping[Any, Any]) -> list[str]:
    """Answers to questions the quiz does not have (a stale or tampered form)."""
    known = {q.id for q in spec.questions}
    unknown = [str(k) for k in choices if k not in known]
    if not unknown:
        return []
    return ["This quiz has no question " + ", ".join(repr(u) for u in unknown)
            + "; reload the page and try again."]


def _choice_problems(number: int, question: Question, chosen: Any) -> list[str]:
    """Why the options chosen for one question cannot be graded."""
    field = f"q-{question.id}"  # the id of the question's first option
    if chosen is None or chosen == []:
        return [AnswerProblem(f"Answer every question: {_name(number, question)} has no "
                              "answer yet.", field)]
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        return [AnswerProblem(f"The answer to {_name(number, question)} is not a list of "
                              "options.", field)]
    problems: list[str] = []
    bad = [c for c in chosen if question.option(c) is None]
    twice = len(set(chosen)) != len(chosen)
    more = question.type != "multiple" and len(chosen) != 1
    if not (bad or twice or more):  # every submission: no question's name to word
        return problems
    name = _name(number, question).capitalize()
    if bad:
        problems.append(AnswerProblem(f"{name} has no option "
                                + ", ".join(repr(b) for b in bad) + ".", field))
    if twice:
        problems.append(AnswerProblem(f"{name}: an option was picked twice.", field))
    elif more:
        problems.append(AnswerProblem(f"{name} takes exactly one answer.", field))
    return problems


def validate(spec: QuizSpec, answer: Any) -> list[str]:
    """Every question answered once, with options of that question."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("choices"), Mapping):
        return ["Answer every question before submitting."]
    choices: Mapping[Any, Any] = answer["choices"]
    problems = _unknown_questions(spec, choices)
    for number, question in enumerate(spec.questions, start=1):
        problems.extend(_choice_problems(number, question, choices.get(question.id)))
    return problems


def question_credit(question: Question, chosen: list[str]) -> float:
    """Credit in [0, 1] before scaling by points (see the module docstring)."""
    right = set(question.correct_ids)
    picked = set(chosen)
    if question.type != "multiple":
        return 1.0 if picked == right else 0.0
    return max(0.0, (len(picked & right) - len(picked - right)) / len(right))


def grade(spec: QuizSpec, answer: Any) -> Result:
    """Per-question credit x points; score = sum / sum of points."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    items = []
    for q in spec.questions:
        # Report options in the question's order, whatever order they were posted in.
        posted = set(answer["choices"][q.id])
        chosen = [o.id for o in q.options if o.id in posted]
        items.append(ItemFeedback(
            item_id=q.id, credit=question_credit(q, chosen) * q.points, max_credit=q.points,
            given=tuple(chosen), expected=q.correct_ids,
            hint=" ".join(o.feedback for o in q.options if o.id in chosen),
            explanation=" ".join(o.feedback for o in q.options if o.correct)))
    return result_from(items)


def model_answer(spec: QuizSpec) -> dict[str, Any]:
    return {"choices": {q.id: list(q.correct_ids) for q in spec.questions}}


# ------------------------------------------------------------------ pages and reports


@dataclass(frozen=True)
class OptionReport:
    """An option as the attempt page shows it."""

    id: str
    text: str
    chosen: bool
    correct: bool | None  # None while the answer is hidden
    feedback: str  # "" when it must not be shown yet


def item_texts(spec: QuizSpec) -> dict[str, str]:
    return {q.id: q.prompt for q in spec.questions}


def answer_labels(spec: QuizSpec) -> dict[str, str]:
    return {}


def item_details(spec: QuizSpec, item_id: str, given: Sequence[str],
                 show: bool) -> tuple[OptionReport, ...]:
    """The question's options; which are correct only when `show` allows it. A learner
    sees the feedback of the options they chose, and of the right ones once shown."""
    question = spec.question(item_id)
    if question is None:  # the quiz changed since this attempt
        return ()
    return tuple(OptionReport(
        id=o.id, text=o.text, chosen=o.id in given,
        correct=o.correct if show else None,
        feedback=o.feedback if (o.id in given or (show and o.correct)) else "")
        for o in question.options)


def classify(spec: QuizSpec, answer: Any) -> list[Verdict]:
    """A question is right when exactly its correct options were chosen (full credit);
    each wrong option ticked is a mistake class of its own."""
    choices = answer.get("choices") if isinstance(answer, Mapping) else None
    if not isinstance(choices, Mapping):
        return []
    verdicts = []
    for q in spec.questions:
        chosen = choices.get(q.id)
        if not isinstance(chosen, list) or not chosen:
            continue
        right = set(q.correct_ids)
        wrong = tuple(o.id for o in q.options if o.id in chosen and not o.correct)
        verdicts.append(Verdict(q.id, set(chosen) == right, wrong))
    return verdicts


def mistake_label(spec: QuizSpec, item_id: str, mistake: str) -> str:
    question = spec.question(item_id)
    option = question.option(mistake) if question is not None else None
    return option.text if option is not None else mistake


def rubric(spec: QuizSpec) -> tuple[Any, ...]:
    return ()


def demo_answer(spec: QuizSpec, learner: DemoLearner) -> dict[str, Any]:
    """Right, or one wrong option instead (single) or as well (multiple)."""
    choices = {}
    for q in spec.questions:
        right = list(q.correct_ids)
        wrong = [o.id for o in q.options if not o.correct]
        if learner.knows(q.id) or not wrong:
            choices[q.id] = right
        elif q.type == "multiple":
            mistake = learner.mistake(q.id, wrong)
            choices[q.id] = [o.id for o in q.options if o.correct or o.id == mistake]
        else:
            choices[q.id] = [learner.mistake(q.id, wrong)]
    return {"choices": choices}
