"""kind: review -- written work an instructor grades with a rubric.

A learner answers one or more prompts: free text (Markdown, kept raw) or a board of
Now / Next / Later cards they write themselves. Submitting never produces a score:
`grade` returns a pending Result (score 0) so the attempt waits for a person.

The instructor then picks one level per rubric criterion; `score_rubric` turns that into
the final Result:
    score = sum of chosen level points / sum of each criterion's highest level points.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any, Protocol

from course.content.errors import Reporter
from course.grading.base import (
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    Verdict,
    result_from,
)
from course.grading.fields import (
    at,
    check_keys,
    parse_entries,
    read_covers,
    read_id,
    read_list,
    read_text,
)

KIND = "review"
LABEL = "Assignment"
AUTO_GRADED = False
PARTIAL = "kinds/review.html"
MISTAKE_NOUN = "answer"
SPEC_FIELDS = ("prompts", "rubric")
FORMATS = ("text", "board")
BOARD_COLUMNS: tuple[tuple[str, str], ...] = (("now", "Now"), ("next", "Next"),
                                              ("later", "Later"))
BOARD_LABELS = dict(BOARD_COLUMNS)
MAX_CARDS = 30
DEFAULT_MAX_LENGTH = {"text": 2000, "board": 200}
TEXT_PREFIX = "r-"
CARD_PREFIX = "card-"


@dataclass(frozen=True)
class Prompt:
    id: str
    label: str
    help: str  # Markdown, kept raw; the web layer renders it
    format: str  # "text" | "board"
    max_length: int  # characters (text) or characters per card (board)
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Level:
    points: float
    label: str
    description: str


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    levels: tuple[Level, ...]  # as written by the author

    @property
    def max_points(self) -> float:
        return max(level.points for level in self.levels)

    def level(self, points: float) -> Level | None:
        return next((lv for lv in self.levels if lv.points == points), None)


@dataclass(frozen=True)
class ReviewSpec:
    prompts: tuple[Prompt, ...]
    rubric: tuple[Criterion, ...]

    def covered_facts(self) -> dict[str, tuple[str, ...]]:
        """Field path -> fact ids, for prompts that declare `covers`."""
        return {f"prompts[{i}].covers": p.covers for i, p in enumerate(self.prompts) if p.covers}


PROMPT_FIELDS = ("id", "label", "help", "format", "max_length", "covers")
CRITERION_FIELDS = ("id", "title", "levels")
LEVEL_FIELDS = ("points", "label", "description")


def _parse_prompt(raw: Mapping[str, Any], where: str, report: Reporter) -> Prompt | None:
    start = len(report.problems)
    check_keys(raw, PROMPT_FIELDS, where, report)
    pid = read_id(raw, "id", where, report)
    label = read_text(raw, "label", where, report)
    help_md = read_text(raw, "help", where, report, required=False)
    fmt = raw.get("format", "text")
    if fmt not in FORMATS:
        report.add(f"{where}.format", f"{fmt!r} is not a format (use text or board)")
        return None
    max_length = raw.get("max_length", DEFAULT_MAX_LENGTH[fmt])
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        report.add(f"{where}.max_length", "must be a whole number of characters, at least 1")
    if len(report.problems) > start:
        return None
    return Prompt(pid, label, help_md, fmt, max_length, read_covers(raw, where, report))


def _parse_criterion(raw: Mapping[str, Any], where: str,
                     report: Reporter) -> Criterion | None:
    start = len(report.problems)
    check_keys(raw, CRITERION_FIELDS, where, report)
    cid = read_id(raw, "id", where, report)
    title = read_text(raw, "title", where, report)
    levels: list[Level] = []
    raw_levels = read_list(raw, "levels", where, report, min_len=2)
    for i, lv in enumerate(raw_levels or []):
        lwhere = at(at(where, "levels"), i)
        check_keys(lv, LEVEL_FIELDS, lwhere, report)
        points = lv.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
            report.add(f"{lwhere}.points", "must be a number, 0 or more")
            points = None
        elif any(points == other.points for other in levels):
            report.add(f"{lwhere}.points", f"another level already gives {points} points")
        label = read_text(lv, "label", lwhere, report)
        description = read_text(lv, "description", lwhere, report)
        if None not in (points, label, description):
            levels.append(Level(points, label, description))
    if len(report.problems) > start:
        return None
    return Criterion(cid, title, tuple(levels))


def parse_spec(data: Mapping[str, Any], report: Reporter) -> ReviewSpec | None:
    """Read `prompts` and `rubric` (each criterion: at least two levels, distinct points)."""
    start = len(report.problems)
    prompts: list[Prompt] = parse_entries(
        read_list(data, "prompts", "", report), "prompts",
        lambda raw, where: _parse_prompt(raw, where, report), report)
    rubric: list[Criterion] = parse_entries(
        read_list(data, "rubric", "", report), "rubric",
        lambda raw, where: _parse_criterion(raw, where, report), report)
    if len(report.problems) > start:
        return None
    return ReviewSpec(tuple(prompts), tuple(rubric))


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
        response = responses.get(prompt.id)
        if prompt.format == "board":
            if response is None or response == []:
                problems.append(f"'{prompt.label}' is empty: add at least one card in each "
                                "of Now, Next and Later.")
            else:
                problems.extend(_board_problems(prompt, response))
            continue
        if isinstance(response, list):
            problems.append(f"'{prompt.label}' was sent more than once; reload the page.")
        elif not isinstance(response, str) or not response.strip():
            problems.append(f"Answer every prompt: '{prompt.label}' is empty.")
        elif len(response) > prompt.max_length:
            problems.append(f"'{prompt.label}' is {len(response):,} characters long; "
                            f"the limit is {prompt.max_length:,}.")
    return problems


def grade(spec: ReviewSpec, answer: Any) -> Result:
    """Pending: an instructor scores it later with `score_rubric`."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    items = tuple(ItemFeedback(item_id=p.id, credit=0.0, max_credit=0.0, given=(),
                               expected=(), hint="", explanation="") for p in spec.prompts)
    return Result(score=0.0, points=0.0, max_points=max_points(spec), items=items,
                  pending=True)


def score_rubric(criteria: Sequence[Criterion], levels: Mapping[str, Any]) -> Result:
    """The instructor's verdict: one level (given by its points) per criterion of a
    rubric (any kind's `rubric(spec)`)."""
    problems = []
    known = {c.id for c in criteria}
    for key in levels:
        if key not in known:
            problems.append(f"The rubric has no criterion {key!r}.")
    items = []
    for criterion in criteria:
        value = levels.get(criterion.id)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        level = (criterion.level(value) if isinstance(value, int | float)
                 and not isinstance(value, bool) else None)
        if level is None:
            problems.append(f"Choose a level for '{criterion.title}'.")
            continue
        best = max(criterion.levels, key=lambda lv: lv.points)
        items.append(ItemFeedback(
            item_id=criterion.id, credit=float(level.points), max_credit=float(best.points),
            given=(str(level.points),), expected=(str(best.points),), hint=level.label,
            explanation=level.description))
    if problems:
        raise InvalidAnswer(problems)
    return result_from(items)


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
