"""kind: now-next-later -- learners lay cards out on a Now / Next / Later roadmap.

The columns are fixed (COLUMNS); `off`, labelled "Off the roadmap" everywhere, holds
backlog or delivery-plan material. Scoring has two parts:

Placement credit per card (max 1):
  * 1   if the card is in one of its `accept` columns;
  * 0.5 if it is in a roadmap column (now/next/later) next to an accepted roadmap column
        (now-next or next-later): the learner saw it belongs on the roadmap and only
        misjudged timing, which is a smaller mistake than misjudging what a roadmap is.
        Never for a card whose only accepted column is `off`, and never for a card put
        in `off`: confusing roadmap items with backlog items is the core mistake.
  * 0   otherwise.

Rules (each worth its `points`, all or nothing):
  * capacity:   number of cards in `column` <= `max`;
  * precedence: both cards on the roadmap (now/next/later) and the column index of
                `first` <= that of `then` (now=0, next=1, later=2). A rule orders two
                roadmap goals, so a board that puts either card in `off` shows no order
                to credit: the rule is broken, the same way whichever of its two cards
                left the roadmap (counting `off` as "after Later" would keep the rule when
                `then` leaves and break it when `first` leaves, for the same mistake).

score = (placement credit + rule points earned) / (number of cards + total rule points).

The spec's `problems` check that the model answer (each card in its first accepted column)
keeps every rule, so the model answer always scores exactly 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from course.content.fields import (
    Block,
    FactIds,
    Id,
    KindSpec,
    Location,
    Points,
    Text,
    Wording,
    one_or_list,
)
from course.grading.base import (
    DemoLearner,
    FormData,
    InvalidAnswer,
    ItemFeedback,
    Result,
    RuleFeedback,
    Verdict,
    result_from,
)
from course.grading.placements import (
    PLACE_PREFIX,
    classify_placements,
    form_from_placements,
    placement_problems,
    placements_from_form,
)

KIND = "now-next-later"
LABEL = "Exercise"
AUTO_GRADED = True
PARTIAL = "kinds/now_next_later.html"
MISTAKE_NOUN = "column"
COLUMNS: tuple[tuple[str, str], ...] = (
    ("now", "Now"), ("next", "Next"), ("later", "Later"), ("off", "Off the roadmap"))
COLUMN_IDS = tuple(c for c, _ in COLUMNS)
COLUMN_LABELS = dict(COLUMNS)
COLUMN_INDEX = {c: i for i, c in enumerate(COLUMN_IDS)}
ROADMAP = ("now", "next", "later")
Column = Literal["now", "next", "later", "off"]


def _each_column_once(columns: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(columns)) != len(columns):
        raise ValueError("lists a column twice")
    return columns


class Card(Block):
    id: Id
    text: Text
    # `accept: now` is a natural way to write one column; the first is the model answer's.
    accept: Annotated[tuple[Column, ...], BeforeValidator(one_or_list), Field(min_length=1),
                      AfterValidator(_each_column_once)]
    hint: Wording
    explanation: Wording
    covers: FactIds = ()


class CapacityRule(Block):
    """At most `max` cards in `column`."""

    type: Literal["capacity"]
    id: Id
    column: Column
    max: Annotated[int, Field(strict=True, ge=1)]
    points: Points = 1.0
    feedback: Wording


class PrecedenceRule(Block):
    """Card `first` no later than card `then` (both on the roadmap)."""

    type: Literal["precedence"]
    id: Id
    first: Id
    then: Id
    points: Points = 1.0
    feedback: Wording


Rule = CapacityRule | PrecedenceRule


class NowNextLaterSpec(KindSpec):
    cards: Annotated[tuple[Card, ...], Field(min_length=1)]
    rules: tuple[Annotated[Rule, Field(discriminator="type")], ...] = ()

    def card(self, card_id: str) -> Card | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def problems(self) -> Iterator[tuple[Location, str]]:
        """Precedence rules name two different cards of this exercise, and the model answer
        (each card in its first accepted column) keeps every rule, so it scores exactly 1."""
        unknown_card = False
        for i, rule in enumerate(self.rules):
            if isinstance(rule, PrecedenceRule):
                for end in ("first", "then"):
                    if self.card(getattr(rule, end)) is None:
                        unknown_card = True
                        yield (("rules", i, end), f"{getattr(rule, end)!r} is not a card of "
                               "this exercise")
                if rule.first == rule.then:
                    unknown_card = True
                    yield ("rules", i, "then"), "must name a different card than `first`"
        if unknown_card:
            return
        placements = model_answer(self)["placements"]
        for i, rule in enumerate(self.rules):
            if not _check_rule(self, rule, placements).passed:
                yield (("rules", i), "the model answer (each card in its first accepted "
                       f"column) breaks this rule: {_what_happened(self, rule, placements)}")


Spec = NowNextLaterSpec


# --------------------------------------------------------------------------- answers


def is_answer_field(name: str) -> bool:
    return name.startswith(PLACE_PREFIX)


def answer_from_form(spec: NowNextLaterSpec, form: FormData) -> dict[str, Any]:
    """`place-<card_id>` = column id, one per card."""
    return placements_from_form(form)


def form_from_answer(spec: NowNextLaterSpec, answer: Any) -> dict[str, list[str]]:
    return form_from_placements(answer)


def validate(spec: NowNextLaterSpec, answer: Any) -> list[str]:
    """Every card placed exactly once, into one of the four columns."""
    return placement_problems(answer, {c.id: c.text for c in spec.cards}, COLUMN_LABELS,
                              "card", "column")


def placement_credit(card: Card, column: str) -> float:
    """1 for an accepted column, 0.5 for a roadmap column next to an accepted roadmap
    column (timing misjudged), else 0 (see the module docstring)."""
    if column in card.accept:
        return 1.0
    if column not in ROADMAP:
        return 0.0
    for accepted in card.accept:
        if accepted in ROADMAP and abs(COLUMN_INDEX[accepted] - COLUMN_INDEX[column]) == 1:
            return 0.5
    return 0.0


def _cards_word(n: int) -> str:
    return f"{n} card" if n == 1 else f"{n} cards"


def _what_happened(spec: NowNextLaterSpec, rule: Rule, placements: Mapping[str, str]) -> str:
    if isinstance(rule, CapacityRule):
        n = sum(1 for c in placements.values() if c == rule.column)
        return (f"{COLUMN_LABELS[rule.column]} holds {_cards_word(n)}; "
                f"keep it to at most {rule.max}.")
    return (f"'{_card_text(spec, rule.first)}' is {_where(placements[rule.first])} but "
            f"'{_card_text(spec, rule.then)}' is {_where(placements[rule.then])}.")


def _card_text(spec: NowNextLaterSpec, card_id: str) -> str:
    """A rule names cards of its own exercise (the spec checks it); the id otherwise."""
    card = spec.card(card_id)
    return card.text if card is not None else card_id


def _where(column: str) -> str:
    """"in Next", or "off the roadmap" (the column label reads oddly after "in")."""
    return "off the roadmap" if column == "off" else f"in {COLUMN_LABELS[column]}"


def _in_order(first_column: str, then_column: str) -> bool:
    """A precedence rule holds only between two cards on the roadmap (module docstring)."""
    return ("off" not in (first_column, then_column)
            and COLUMN_INDEX[first_column] <= COLUMN_INDEX[then_column])


def _check_rule(spec: NowNextLaterSpec, rule: Rule,
                placements: Mapping[str, str]) -> RuleFeedback:
    if isinstance(rule, CapacityRule):
        n = sum(1 for c in placements.values() if c == rule.column)
        passed = n <= rule.max
        ok = (f"{COLUMN_LABELS[rule.column]} holds {_cards_word(n)}, "
              f"within the limit of {rule.max}.")
    else:
        passed = _in_order(placements[rule.first], placements[rule.then])
        ok = (f"'{_card_text(spec, rule.first)}' comes no later than "
              f"'{_card_text(spec, rule.then)}'.")
    message = ok if passed else f"{rule.feedback} {_what_happened(spec, rule, placements)}"
    return RuleFeedback(rule_id=rule.id, passed=passed,
                        points=rule.points if passed else 0.0, max_points=rule.points,
                        message=message, title=_rule_title(spec, rule))


def _rule_title(spec: NowNextLaterSpec, rule: Rule) -> str:
    """What the rule asks, in a few words, as the heading learners see on their result."""
    if isinstance(rule, CapacityRule):
        return f"No more than {_cards_word(rule.max)} in {COLUMN_LABELS[rule.column]}"
    return (f"\u201c{_card_text(spec, rule.first)}\u201d no later than "
            f"\u201c{_card_text(spec, rule.then)}\u201d")


def grade(spec: NowNextLaterSpec, answer: Any) -> Result:
    """Placement credit per card plus all-or-nothing rule points (module docstring)."""
    problems = validate(spec, answer)
    if problems:
        raise InvalidAnswer(problems)
    placements: Mapping[str, str] = answer["placements"]
    items = [ItemFeedback(item_id=card.id, credit=placement_credit(card, placements[card.id]),
                          max_credit=1.0, given=(placements[card.id],), expected=card.accept,
                          hint=card.hint, explanation=card.explanation)
             for card in spec.cards]
    rules = [_check_rule(spec, rule, placements) for rule in spec.rules]
    return result_from(items, rules)


def model_answer(spec: NowNextLaterSpec) -> dict[str, Any]:
    """Each card in its first accepted column."""
    return {"placements": {card.id: card.accept[0] for card in spec.cards}}


# ------------------------------------------------------------------ pages and reports


def item_texts(spec: NowNextLaterSpec) -> dict[str, str]:
    return {c.id: c.text for c in spec.cards}


def answer_labels(spec: NowNextLaterSpec) -> dict[str, str]:
    return dict(COLUMNS)


def board_columns(spec: NowNextLaterSpec) -> list[dict[str, str]]:
    """The four columns as the board offers them (the partial's form)."""
    return [{"id": c, "label": label} for c, label in COLUMNS]


def item_details(spec: NowNextLaterSpec, item_id: str, given: Sequence[str],
                 show: bool) -> tuple[Any, ...]:
    return ()


def classify(spec: NowNextLaterSpec, answer: Any) -> list[Verdict]:
    """Right in any accepted column; otherwise the column the card was put in."""
    return classify_placements({c.id: c.accept for c in spec.cards}, answer)


def mistake_label(spec: NowNextLaterSpec, item_id: str, mistake: str) -> str:
    return COLUMN_LABELS.get(mistake, mistake)


def rubric(spec: NowNextLaterSpec) -> tuple[Any, ...]:
    return ()


def demo_answer(spec: NowNextLaterSpec, learner: DemoLearner) -> dict[str, Any]:
    return {"placements": {
        c.id: c.accept[0] if learner.knows(c.id) else learner.mistake(
            c.id, [col for col in COLUMN_IDS if col not in c.accept])
        for c in spec.cards}}
