"""Which passwords we accept: 8 characters or more, and not easy to guess.

No composition rules (they push people to `Password1!`); instead zxcvbn, a maintained
port of Dropbox's estimator, scores the password against common passwords, names,
keyboard patterns, dates and the person's own email and name. Below "safely
unguessable" (score 3 of 4) it is refused, with zxcvbn's hint in plain words. Long
passphrases of ordinary words pass easily.
"""

from __future__ import annotations

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
    if result["score"] >= _GOOD_ENOUGH:
        return None
    warning = result["feedback"]["warning"] or "This password would be easy to guess."
    return f"{warning.rstrip('.')}. {HINT}"


def _words(text: str) -> list[str]:
    """The text and its parts: 'ann.lee@example.org' -> itself, ann, lee, example, org."""
    parts = [p for p in "".join(c if c.isalnum() else " " for c in text).split() if p]
    return [text, *parts]
