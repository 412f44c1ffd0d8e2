"""kind: review -- written work an instructor grades with a rubric.

A learner answers one or more prompts: free text (Markdown, kept raw) or a board of
Now / Next / Later cards they write themselves. Submitting never produces a score:
`grade` returns a pending Result (score 0) so the attempt waits for a person.

The instructor then picks one level per rubric criterion, and course.grading.rubric turns
that into the final Result.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import zip_longest
from typing import Annotated, Any, Literal, Protocol

from pydantic import Field, model_validator

from course.content.fields import (
    Block,
    FactIds,
    Id,
    KindSpec,
    Location,
    OptionalWording,
    WholeNumber,
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
)
from course.grading.rubric import Criterion

KIND = "review"
LABEL = "Assignment"
AUTO_GRADED = False
PARTIAL = "kinds/review.html"
MISTAKE_NOUN = "answer"
FORMATS = ("text", "board")
BOARD_COLUMNS: tuple[tuple[str, str], ...] = (("now", "Now"), ("next", "Next"),
                                              ("later", "Later"))
BOARD_LABELS = dict(BOARD_COLUMNS)
MAX_CARDS = 30
DEFAULT_MAX_LENGTH = {"text": 2000, "board": 200}
TEXT_PREFIX = "r-"
CARD_PREFIX = "card-"


class Prompt(Block):
    id: Id
    label: Wording
    help: OptionalWording = ""  # Markdown, kept raw; the web layer renders it
    format: Literal["text", "board"] = "text"
    # characters (text) or characters per card (board); DEFAULT_MAX_LENGTH when left out
    max_length: Annotated[WholeNumber, Field(ge=1)]
    covers: FactIds = ()

    @model_validator(mode="before")
    @classmethod
    def _default_max_length(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_length" not in data:
            fmt = data.get("format", "text")
            return {**data, "max_length": DEFAULT_MAX_LENGTH.get(fmt, 1)}
        return data

    @property
    def reviewer_label(self) -> str:
        """The prompt as an instructor reads the answer: labels speak to the learner
        ("Your vision statement"), the review page speaks about them."""
        if self.label.startswith("Your "):
            return "The learner\u2019s " + self.label[len("Your "):]
        return f"The learner\u2019s answer to \u201c{self.label}\u201d"


class ReviewSpec(KindSpec):
    prompts: Annotated[tuple[Prompt, ...], Field(min_length=1)]
    rubric: Annotated[tuple[Criterion, ...], Field(min_length=1)]
    # Markdown: one good answer, shown once the learner has submitted, so a learner with
    # no instructor still has something to measure their work against. Not graded, so
    # rewording it does not change the exercise version.
    worked_example: OptionalWording = ""

    def problems(self) -> Iterator[tuple[Location, str]]:
        """Each level of a criterion gives a different number of points (the instructor
        picks a level by its points)."""
        for i, criterion in enumerate(self.rubric):
            seen: set[float] = set()
            for j, level in enumerate(criterion.levels):
                if level.points in seen:
                    yield (("rubric", i, "levels", j, "points"),
                           f"another level already gives {level.points:g} points")
                seen.add(level.points)


Spec = ReviewSpec


def max_points(spec: ReviewSpec) -> float:
    """The most a reviewed answer can earn: each criterion's highest level, summed."""
    return sum(c.max_points for c in spec.rubric)


# --------------------------------------------------------------------------- answers


def _one_or_all(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def is_answer_field(name: str) -> bool:
    return name.startswith(TEXT_PREFIX) or (
        name.startswith(CARD_PREFIX) and name.endswith(("-column", "-text")))


def answer_from_form(spec: ReviewSpec, form: FormData) -> dict[str, Any]:
    """`r-<prompt_id>` for text; `card-<prompt_id>-column` / `card-<prompt_id>-text` pairs
    (zipped in order) for boards. Cards with blank text are dropped, since a board form
    always posts a few empty slots. A field sent twice is kept as a list for `validate`
    to reject; fields for unknown prompts are kept too."""
    responses: dict[str, Any] = {}
    boards: list[str] = []
    for name, values in form.items():
        if name.startswith(TEXT_PREFIX):
            responses[name[len(TEXT_PREFIX):]] = _one_or_all(list(values))
        elif name.startswith(CARD_PREFIX):
            for suffix in ("-column", "-text"):
                if name.endswith(suffix) and len(name) > len(CARD_PREFIX) + len(suffix):
                    pid = name[len(CARD_PREFIX):-len(suffix)]
                    if pid not in boards:
                        boards.append(pid)
    for pid in boards:
        columns = list(form.get(f"{CARD_PREFIX}{pid}-column", ()))
        texts = list(form.get(f"{CARD_PREFIX}{pid}-text", ()))
        cards = [{"column": column, "text": text.strip()}
                 for column, text in zip_longest(columns, texts, fillvalue="")
                 if text.strip()]
        responses.setdefault(pid, cards)
    return {"responses": responses}


def form_from_answer(spec: ReviewSpec, answer: Any) -> dict[str, list[str]]:
    """Text prompts to `r-<id>`; a board's cards to parallel column and text fields."""
    form: dict[str, list[str]] = {}
    for pid, response in answer["responses"].items():
        if isinstance(response, list):
            form[f"{CARD_PREFIX}{pid}-column"] = [c["column"] for c in response]
            form[f"{CARD_PREFIX}{pid}-text"] = [c["text"] for c in response]
        else:
            form[f"{TEXT_PREFIX}{pid}"] = [response]
    return form


def _board_problems(prompt: Prompt, cards: Any) -> list[str]:
    name = f"'{prompt.label}'"
    if not isinstance(cards, list) or not all(isinstance(c, Mapping) for c in cards):
        return [f"{name} expects Now / Next / Later cards."]
    problems = []
    if len(cards) > MAX_CARDS:
        problems.append(f"{name} has {len(cards)} cards; use at most {MAX_CARDS}.")
    for n, card in enumerate(cards, start=1):
        text, column = card.get("text"), card.get("column")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{name}: card {n} has no text.")
        elif len(text) > prompt.max_length:
            problems.append(f"{name}: card {n} is {len(text):,} characters long; "
                            f"keep each card to {prompt.max_length:,}.")
        if not isinstance(column, str) or column not in BOARD_LABELS:
            problems.append(f"{name}: card {n} is not in Now, Next or Later.")
    used = {c.get("column") for c in cards if isinstance(c.get("column"), str)}
    for column, label in BOARD_COLUMNS:
        if column not in used:
            problems.append(f"{name} needs at least one card in {label}.")
    return problems


def validate(spec: ReviewSpec, answer: Any) -> list[str]:
    """Every prompt answered: text non-blank and within `max_length`; a board with at
    least one card in each of Now, Next and Later."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("responses"), Mapping):
        return ["Answer every prompt before submitting."]
    responses: Mapping[Any, Any] = answer["responses"]
    known = {p.id for p in spec.prompts}
    problems = []
    unknown = [str(k) for k in responses if k not in known]
    if unknown:
        problems.append("This exercise has no prompt " + ", ".join(repr(u) for u in unknown)
                        + "; reload the page and try again.")
    for prompt in spec.prompts:
        problems.extend(AnswerProblem(message, f"r-{prompt.id}")  # the prompt's field (or board)
                        for message in _prompt_problems(prompt, responses.get(prompt.id)))
    return problems


def _prompt_problems(prompt: Prompt, response: Any) -> list[str]:
    if prompt.format == "board":
        if response is None or response == []:
            return [f"'{prompt.label}' is empty: add at least one card in each of Now, "
                    "Next and Later."]
        return _board_problems(prompt, response)
    if isinstance(response, list):
        return [f"'{prompt.label}' was sent more than once; reload the page."]
    if not isinstance(response, str) or not response.strip():
        return [f"Answer every prompt: '{prompt.label}' is empty."]
    if len(response) > prompt.max_length:
        return [f"'{prompt.label}' is {len(response):,} characters long; "
                f"the limit is {prompt.max_length:,}."]
    return []


def grade(spec: ReviewSpec, answer: Any) -> Result:
    """Pending: an instructor scores it later with the rubric (course.grading.rubric)."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    items = tuple(ItemFeedback(item_id=p.id, credit=0.0, max_credit=0.0, given=(),
                               expected=(), hint="", explanation="") for p in spec.prompts)
    return Result(score=0.0, points=0.0, max_points=max_points(spec), items=items,
                  pending=True)


def model_answer(spec: ReviewSpec) -> None:
    """There is no reference answer for work a person grades."""
    return None


# ------------------------------------------------------------------ pages and reports


class PostedForm(Protocol):
    def getlist(self, key: str) -> list[str]: ...


def board_columns() -> list[dict[str, str]]:
    """The columns of a written board (the partial's form and answer)."""
    return [{"id": c, "label": label} for c, label in BOARD_COLUMNS]


def board_rows(posted: PostedForm | None, prompt_id: str) -> list[tuple[str, str]]:
    """The (column, text) rows of a written board: the learner's cards after a refused
    post plus three blank ones, or three blank rows per column on a fresh form."""
    columns = [c for c, _ in BOARD_COLUMNS]
    if posted is None:
        return [(c, "") for c in columns for _ in range(3)]
    cards = [(column, text) for column, text in zip_longest(
        posted.getlist(f"{CARD_PREFIX}{prompt_id}-column"),
        posted.getlist(f"{CARD_PREFIX}{prompt_id}-text"),
        fillvalue="") if text.strip()]
    return cards + [(columns[i % len(columns)], "") for i in range(3)]


def item_texts(spec: ReviewSpec) -> dict[str, str]:
    return {p.id: p.label for p in spec.prompts}


def answer_labels(spec: ReviewSpec) -> dict[str, str]:
    return {}


def item_details(spec: ReviewSpec, item_id: str, given: Sequence[str],
                 show: bool) -> tuple[Any, ...]:
    return ()


def classify(spec: ReviewSpec, answer: Any) -> list[Verdict]:
    """Written work has no answer key, so no misconceptions to count."""
    return []


def mistake_label(spec: ReviewSpec, item_id: str, mistake: str) -> str:
    return mistake


def rubric(spec: ReviewSpec) -> tuple[Criterion, ...]:
    return spec.rubric


def demo_answer(spec: ReviewSpec, learner: DemoLearner) -> dict[str, Any]:
    """A piece of writing per text prompt; one or two cards per column on a board."""
    responses: dict[str, Any] = {}
    for prompt in spec.prompts:
        if prompt.format == "board":
            responses[prompt.id] = [{"column": column, "text": learner.write(column)}
                                    for column, _ in BOARD_COLUMNS for _ in range(2)]
        else:
            responses[prompt.id] = learner.write(prompt.id)
    return {"responses": responses}
