"""One spelling per email address, so a lookalike cannot become a second account.

An address spelt with a full-width e (U+FF45) in "example.com" must be the same account
as the plain one, and one with a dotless i (U+0131) for the i of "alice" must not pass
for alice@example.com. email-validator does most of the work: NFC, the domain through
IDNA/UTS-46 (which folds full-width letters and case), and, with `allow_smtputf8=False`,
a refusal of any character outside ASCII before the @. It does not look at scripts, so
we add two steps around it: NFKC first (compatibility forms such as full-width letters
in the local part become their plain letters), and a refusal of a domain label mixing
the alphabets whose letters look alike (Latin, Cyrillic, Greek: a Cyrillic a, U+0430,
among Latin letters), as browsers' IDN display rules do.

Why ASCII-only local parts rather than a mixed-script check there: a dotless i or a
Cyrillic letter on its own is a single script and passes such a check, and few mail
servers deliver to internationalised mailboxes (SMTPUTF8) anyway.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

#: Scripts with letters that pass for one another (Cyrillic and Greek o for a Latin o).
_LOOKALIKE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


class InvalidAddress(ValueError):
    """Not an address an account can have; the message says why, for the form."""


def normalise(address: str) -> str:
    """The account's spelling of `address` (local part lower-cased, domain as IDNA's
    Unicode form); raise InvalidAddress when it is not one."""
    try:
        valid = validate_email(unicodedata.normalize("NFKC", address.strip()),
                               check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    for label in valid.domain.split("."):
        if len(_scripts(label) & _LOOKALIKE_SCRIPTS) > 1:
            raise InvalidAddress(f"The domain part {valid.domain!r} mixes alphabets, as a "
                                 "lookalike of another address would.")
    return f"{valid.local_part.lower()}@{valid.domain}"


def lookup_spelling(address: str) -> str:
    """The spelling to look an account up by (or count its rate limit on): the
    normalised one, or for an address `normalise` refuses, the spelling accounts had
    before it (trimmed, lower case), so an account made then still signs in."""
    try:
        return normalise(address)
    except InvalidAddress:
        return address.strip().lower()


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters, by the first word of their Unicode names
    (LATIN, CYRILLIC, GREEK, ...); digits and hyphens belong to none."""
    return {unicodedata.name(ch, "?").split()[0] for ch in label if ch.isalpha()}
