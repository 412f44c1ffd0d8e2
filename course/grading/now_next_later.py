"""kind: now-next-later -- learners lay cards out on a Now / Next / Later roadmap.

The columns are fixed (COLUMNS); `off` means "not on the roadmap" (backlog or
delivery-plan material). Scoring has two parts:

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

parse_spec checks that the model answer (each card in its first accepted column) keeps
every rule, so the model answer always scores exactly 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course.content.errors import Reporter
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
from course.grading.fields import (
    check_keys,
    check_unique,
    parse_entries,
    read_covers,
    read_id,
    read_list,
    read_text,
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
SPEC_FIELDS = ("cards", "rules")
COLUMNS: tuple[tuple[str, str], ...] = (
    ("now", "Now"), ("next", "Next"), ("later", "Later"), ("off", "Not on the roadmap"))
COLUMN_IDS = tuple(c for c, _ in COLUMNS)
COLUMN_LABELS = dict(COLUMNS)
COLUMN_INDEX = {c: i for i, c in enumerate(COLUMN_IDS)}
ROADMAP = ("now", "next", "later")


@dataclass(frozen=True)
class Card:
    id: str
    text: str
    accept: tuple[str, ...]  # first entry is the model answer's column
    hint: str
    explanation: str
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapacityRule:
    id: str
    column: str
    max: int
    points: float
    feedback: str
    type: str = "capacity"


@dataclass(frozen=True)
class PrecedenceRule:
    id: str
    first: str
    then: str
    points: float
    feedback: str
    type: str = "precedence"


Rule = CapacityRule | PrecedenceRule


@dataclass(frozen=True)
class NowNextLaterSpec:
    cards: tuple[Card, ...]
    rules: tuple[Rule, ...] = ()

    def card(self, card_id: str) -> Card | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def covered_facts(self) -> dict[str, tuple[str, ...]]:
        """Field path -> fact ids, for cards that declare `covers`."""
        return {f"cards[{i}].covers": c.covers for i, c in enumerate(self.cards) if c.covers}


CARD_FIELDS = ("id", "text", "accept", "hint", "explanation", "covers")
CAPACITY_FIELDS = ("id", "type", "column", "max", "points", "feedback")
PRECEDENCE_FIELDS = ("id", "type", "first", "then", "points", "feedback")


def _read_points(raw: Mapping[str, Any], where: str, report: Reporter) -> float | None:
    value = raw.get("points", 1)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        report.add(f"{where}.points", "must be a number greater than 0")
        return None
    return float(value)


def _parse_card(raw: Mapping[str, Any], where: str, report: Reporter) -> Card | None:
    check_keys(raw, CARD_FIELDS, where, report)
    cid = read_id(raw, "id", where, report)
    text = read_text(raw, "text", where, report)
    accept = raw.get("accept")
    if isinstance(accept, str):  # `accept: now` is a natural way to write one column
        accept = [accept]
    ok_accept = False
    if not isinstance(accept, list) or not accept:
        report.add(f"{where}.accept", "must list at least one of: " + ", ".join(COLUMN_IDS))
    elif any(not isinstance(a, str) or a not in COLUMN_INDEX for a in accept):
        bad = [a for a in accept if not isinstance(a, str) or a not in COLUMN_INDEX]
        report.add(f"{where}.accept", f"{bad[0]!r} is not a column (use "
                   + ", ".join(COLUMN_IDS) + ")")
    elif len(set(accept)) != len(accept):
        report.add(f"{where}.accept", "lists a column twice")
    else:
        ok_accept = True
    hint = read_text(raw, "hint", where, report)
    explanation = read_text(raw, "explanation", where, report)
    covers = read_covers(raw, where, report)
    if None in (cid, text, hint, explanation) or not ok_accept:
        return None
    return Card(cid, text, tuple(accept), hint, explanation, covers)


def _parse_rule(raw: Mapping[str, Any], where: str, card_ids: set[str] | None,
                report: Reporter) -> Rule | None:
    rtype = raw.get("type")
    if rtype not in ("capacity", "precedence"):
        report.add(f"{where}.type", f"{rtype!r} is not a rule type (use capacity or "
                   "precedence)")
        read_id(raw, "id", where, report)
        return None
    rid = read_id(raw, "id", where, report)
    points = _read_points(raw, where, report)
    feedback = read_text(raw, "feedback", where, report)
    if rtype == "capacity":
        check_keys(raw, CAPACITY_FIELDS, where, report)
        column = raw.get("column")
        ok_column = isinstance(column, str) and column in COLUMN_INDEX
        if not ok_column:
            report.add(f"{where}.column", f"{column!r} is not a column (use "
                       + ", ".join(COLUMN_IDS) + ")")
        cap = raw.get("max")
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            report.add(f"{where}.max", "must be a whole number of at least 1")
            cap = None
        if None in (rid, points, feedback, cap) or not ok_column:
            return None
        return CapacityRule(rid, column, cap, points, feedback)
    check_keys(raw, PRECEDENCE_FIELDS, where, report)
    ends = []
    for key in ("first", "then"):
        value = raw.get(key)
        if value is None:
            report.add(f"{where}.{key}", "is required (a card id)")
        elif card_ids is not None and (not isinstance(value, str) or value not in card_ids):
            report.add(f"{where}.{key}", f"{value!r} is not a card of this exercise")
        ends.append(value)
    first, then = ends
    if first is not None and first == then:
        report.add(f"{where}.then", "must name a different card than `first`")
    if None in (rid, points, feedback) or card_ids is None:
        return None
    if not isinstance(first, str) or not isinstance(then, str):
        return None
    if first not in card_ids or then not in card_ids or first == then:
        return None
    return PrecedenceRule(rid, first, then, points, feedback)


def parse_spec(data: Mapping[str, Any], report: Reporter) -> NowNextLaterSpec | None:
    """Read `cards` and `rules`, then make sure the model answer keeps every rule."""
    start = len(report.problems)
    raw_cards = read_list(data, "cards", "", report)
    cards: list[Card] = parse_entries(
        raw_cards, "cards", lambda raw, where: _parse_card(raw, where, report), report)
    card_ids = ({raw.get("id") for raw in raw_cards if isinstance(raw.get("id"), str)}
                if raw_cards is not None else None)

    rules: list[Rule] = []
    raw_rules = data.get("rules", [])
    if raw_rules is None:
        raw_rules = []
    if not isinstance(raw_rules, list):
        report.add("rules", "must be a list")
        raw_rules = []
    rule_at: dict[str, int] = {}
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, Mapping):
            report.add(f"rules[{i}]", "must be a mapping of fields")
            continue
        rule = _parse_rule(raw, f"rules[{i}]", card_ids, report)
        if rule is not None:
            rules.append(rule)
            rule_at[rule.id] = i
    check_unique([(f"rules[{i}].id", raw.get("id") if isinstance(raw, Mapping)
                   and isinstance(raw.get("id"), str) else None)
                  for i, raw in enumerate(raw_rules)], report)

    if len(report.problems) > start:
        return None
    spec = NowNextLaterSpec(tuple(cards), tuple(rules))
    placements = model_answer(spec)["placements"]
    for rule in spec.rules:
        fb = _check_rule(spec, rule, placements)
        if not fb.passed:
            report.add(f"rules[{rule_at[rule.id]}]",
                       "the model answer (each card in its first accepted column) breaks "
                       f"this rule: {_what_happened(spec, rule, placements)}")
    if len(report.problems) > start:
        return None
    return spec


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
    first, then = spec.card(rule.first), spec.card(rule.then)
    return (f"'{first.text}' is in {COLUMN_LABELS[placements[rule.first]]} but "
            f"'{then.text}' is in {COLUMN_LABELS[placements[rule.then]]}.")


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
        ok = (f"'{spec.card(rule.first).text}' comes no later than "
              f"'{spec.card(rule.then).text}'.")
    message = ok if passed else f"{rule.feedback} {_what_happened(spec, rule, placements)}"
    return RuleFeedback(rule_id=rule.id, passed=passed,
                        points=rule.points if passed else 0.0, max_points=rule.points,
                        message=message)


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
