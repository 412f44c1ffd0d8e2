"""Which passwords we accept: 8 characters or more, and not easy to guess.

No composition rules (they push people to `Password1!`); instead zxcvbn, a maintained
port of Dropbox's estimator, scores the password against common passwords, names,
keyboard patterns, dates and the person's own email and name. Below "safely
unguessable" (score 3 of 4) it is refused, with zxcvbn's hint in plain words. Long
passphrases of ordinary words pass easily.

zxcvbn counts each piece it does not recognise as brute force, so the person's own words
joined by separators and a year (`teacher-example-2026` for teacher@example.com) would
score as strong; a password must therefore also be strong with those words taken out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 200
#: zxcvbn's own cap; its matching is slow on longer input. A longer passphrase is
#: judged by its first 72 characters, which is plenty to tell it apart from a common one.
_ESTIMATED_LENGTH = 72
_GOOD_ENOUGH = 3
#: zxcvbn keeps the user inputs in a module-level dictionary while it scores.
_zxcvbn_lock = threading.Lock()

HINT = "A few unrelated words, like a short odd sentence, make a strong password you can remember."
PERSONAL = "It is made from your own email address or name."
#: Shorter parts of an email or name ("a", "io") are left in: they are in many words.
_SHORTEST_PERSONAL = 3


def password_problem(password: str, personal: Iterable[str] = ()) -> str | None:
    """Why `password` is refused, in words for the person choosing it; None when it is fine.

    `personal` holds what an attacker would try first for this person: their email,
    name and the like.
    """
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. {HINT}"
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    inputs = [word for text in personal if text for word in _words(text)]
    with _zxcvbn_lock:
        result = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=inputs)
    if result["score"] < _GOOD_ENOUGH:
        warning = result["feedback"]["warning"] or "This password would be easy to guess."
        return f"{warning.rstrip('.')}. {HINT}"
    rest = _without(password, inputs)
    if rest == password:
        return None
    if rest:
        with _zxcvbn_lock:
            rest_score = zxcvbn(rest[:_ESTIMATED_LENGTH], user_inputs=inputs)["score"]
    else:  # nothing but the person's own words (zxcvbn cannot score "")
        rest_score = 0
    return f"{PERSONAL} {HINT}" if rest_score < _GOOD_ENOUGH else None


def _without(password: str, words: list[str]) -> str:
    """The password with every one of the person's own words taken out (longest first,
    ignoring case)."""
    rest = password
    for word in sorted({w for w in words if len(w) >= _SHORTEST_PERSONAL}, key=len,
                       reverse=True):
        rest = re.sub(re.escape(word), "", rest, flags=re.IGNORECASE)
    return rest


def _words(text: str) -> list[str]:
    """The text and its parts: 'ann.lee@example.org' -> itself, ann, lee, example, org."""
    parts = [p for p in "".join(c if c.isalnum() else " " for c in text).split() if p]
    return [text, *parts]
