"""An exercise's attempt policy applied to a learner's count: what it allows now.

How many attempts are left, whether the next one is the last (so the learner confirms
it), and when the model answer may be shown. Pure functions of the policy and the
counts, so the submit path, the pages and the course standing ask the same rule.
"""

from __future__ import annotations

from course.content.schema import AttemptPolicy


def attempts_left(policy: AttemptPolicy, used: int) -> int | None:
    """How many more submissions the policy allows; None means unlimited."""
    if policy.max_attempts is None:
        return None
    return max(0, policy.max_attempts - used)


def spends_last_attempt(policy: AttemptPolicy, used: int) -> bool:
    """Whether the next submission uses the final attempt (also the first and only one
    of a one-attempt exercise): the learner confirms it first, since afterwards the
    exercise is closed to them."""
    return attempts_left(policy, used) == 1


def model_answer_visible(policy: AttemptPolicy, used: int, passed: bool) -> bool:
    """Whether the learner may now see the model answer and the full explanations, after
    `used` attempts of which at least one `passed` (or none did).

    Before that they only get hints, so a wrong answer is explained without being given
    away while they can still try again.
    """
    if policy.model_answer == "never":
        return False
    out_of_attempts = attempts_left(policy, used) == 0
    if policy.model_answer == "after_pass":
        return passed
    if policy.model_answer == "after_last_attempt":
        return out_of_attempts
    return passed or out_of_attempts
