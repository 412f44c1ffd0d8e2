"""The placement board of sort and now-next-later forms.

A board is a radio button per card and column (52 on the now-next-later exercise), the
same markup for every learner but for which buttons are checked. Its HTML is built into
fixed pieces, one before each radio button's checked slot, which are then joined, adding
" checked" where the learner's prefilled or posted answer put a card (a blank or
prefilled form is kept whole: caches.AppCaches.answer_forms). board.js relies on this
markup: keep the data-attributes, classes, ids and field names as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape


class Posted(Protocol):
    """Form fields with repeated names (a werkzeug MultiDict)."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Board:
    """A board's HTML as fixed pieces: `slots[i]` is (text before it, field name, value)
    of one radio button, whose " checked" goes right after that text; `tail` ends it."""

    slots: tuple[tuple[str, str, str], ...]
    names: tuple[str, ...]  # the cards' field names, in order
    tail: str
    blank: Markup  # the board with nothing checked

    def render(self, posted: Posted | None) -> Markup:
        """The board with the radio buttons `posted` chose checked."""
        if not posted:
            return self.blank
        chosen = {name: posted.getlist(name) for name in self.names}
        parts = []
        for before, name, value in self.slots:
            parts.append(before)
            if value in chosen[name]:
                parts.append(" checked")
        parts.append(self.tail)
        # The pieces were escaped by build(), and nothing posted is written out, only
        # compared with the radio buttons' values.
        html = "".join(parts)
        return Markup(html)  # nosec B704  # build()'s escaped pieces and " checked"


def build(columns: Sequence[Mapping[str, str]], items: Sequence[Any]) -> Board:
    """The board for these columns ({"id", "label"}) and cards (with `id` and `text`)."""
    data = htmlsafe_json_dumps(list(columns), dumps=json.dumps, sort_keys=True)
    text = (f"\n  <div class=\"board\" data-board data-columns='{data}'>\n"
            "    <ol class=\"card-list\">\n      ")
    slots = []
    names = []
    for item in items:
        item_id, item_text = escape(item.id), escape(item.text)
        name = f"place-{item.id}"
        names.append(name)
        text += (f"\n        \n        <li class=\"card\" data-item=\"{item_id}\" "
                 f"id=\"card-{item_id}\">\n"
                 f"          <p class=\"card-text\" id=\"card-{item_id}-text\">{item_text}</p>\n"
                 "          <fieldset class=\"card-control\"><legend class=\"visually-hidden\">"
                 f"Where does \"{item_text}\" go?</legend>\n            ")
        for index, column in enumerate(columns):
            text += (f"\n              <label><input type=\"radio\" name=\"{escape(name)}\" "
                     f"value=\"{escape(column['id'])}\"")
            slots.append((text, name, column["id"]))
            first = f" id=\"{escape(name)}\"" if index == 0 else ""
            text = f"{first}> {escape(column['label'])}</label>\n            "
        text += "\n          </fieldset>\n        </li>\n      "
    text += "\n    </ol>\n  </div>\n"
    html = "".join(before for before, _, _ in slots) + text
    blank = Markup(html)  # nosec B704  # every text in the pieces went through escape() above
    return Board(tuple(slots), tuple(names), text, blank)

