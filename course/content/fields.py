"""The vocabulary every course file is written in: one definition of an id, a text, a fact
list, and what "unknown field" means, shared by course.yaml, lessons, exercise envelopes and
every kind's spec (so they cannot disagree, as two hand-written readers once did on ids).

The models are pydantic; the loader turns their errors into author-worded problems with a
file, a line and a field path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    StringConstraints,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from course.content.yaml_source import Location as Location  # kinds' problems() use it

# Ids end up in URLs, HTML ids and form field names: keep them plain.
ID_RULE = ("lowercase letters, digits and single dashes, at most 64 characters "
           "(like 'product-vision')")
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]

# Required text: not blank, surrounding space dropped.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _WordingMarker:
    """Marks a field learners read but grading never looks at (see `grading_fingerprint`)."""

    def __repr__(self) -> str:
        return "WORDING"


WORDING = _WordingMarker()
# Hints, explanations, labels, titles: fixing a typo in them must not change the version.
Wording = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), WORDING]
OptionalWording = Annotated[str, StringConstraints(strip_whitespace=True), WORDING]


def _known_facts(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    facts = (info.context or {}).get("facts")
    if facts is not None:
        unknown = [f for f in value if f not in facts]
        if unknown:
            raise PydanticCustomError(
                "unknown_fact", "{unknown} is not a fact id in course.yaml (the fact ids are: "
                "{valid})", {"unknown": ", ".join(repr(u) for u in unknown),
                             "valid": ", ".join(sorted(facts))})
    return value


def one_or_list(value: Any) -> Any:
    """`covers: vision` is a natural way to write a list of one."""
    return [value] if isinstance(value, str) else value


FactIds = Annotated[tuple[str, ...], BeforeValidator(one_or_list), AfterValidator(_known_facts)]


class Block(BaseModel):
    """A block of a course file: every field known, none extra, the result immutable.

    An unknown field is refused (and named with the allowed ones, see
    course.content.wording): a silently ignored `polcy:` would turn a 3-attempt exercise
    into an unlimited one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# YAML numbers as written: `true` is not 1 and `"3"` is not 3.
WholeNumber = StrictInt
# A whole number stays an int (rubric points read `2`, not `2.0`, in feedback and forms).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False),
                   AfterValidator(lambda v: int(v) if v.is_integer() else v)]
Points = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]


def _graded_parts(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _graded_parts(getattr(value, name))
                for name, info in type(value).model_fields.items()
                if WORDING not in info.metadata}
    if isinstance(value, list | tuple):
        return [_graded_parts(v) for v in value]
    return value


def grading_fingerprint(*parts: Any) -> str:
    """A short hash of everything grading depends on, leaving out fields marked Wording.

    Stored with each attempt: a form posted against another fingerprint was built for a
    different answer key, so it is refused (409) instead of graded against the wrong one.
    """
    payload = json.dumps([_graded_parts(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class KindSpec(Block):
    """Base of each kind's `Spec` model (the kind-specific fields of an exercise file)."""

    def problems(self) -> Iterator[tuple[Location, str]]:
        """Rules that relate one field to another (an item's bucket is one of the
        buckets); the field types say everything else. Locations are field paths."""
        return iter(())


def repeated_ids_and_texts(model: BaseModel,
                           where: Location = ()) -> Iterator[tuple[Location, str]]:
    """In every list of blocks, an id or a text used twice: two items with one text are
    one question asked twice, and only the second would be graded as the author meant."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from repeated_ids_and_texts(value, (*where, name))
        if not isinstance(value, tuple) or not all(isinstance(v, BaseModel) for v in value):
            continue
        for key in ("id", "text"):
            seen: dict[str, int] = {}
            for i, entry in enumerate(value):
                word = getattr(entry, key, None)
                if not isinstance(word, str):
                    continue
                norm = " ".join(word.lower().split())
                if norm in seen:
                    first = value[seen[norm]]
                    named = f"'{first.id}'" if isinstance(getattr(first, "id", None), str) \
                        else seen[norm]
                    yield ((*where, name, i, key),
                           f"duplicate {key}: {name}[{named}] already has {word!r}; each "
                           f"entry needs its own {key}")
                seen.setdefault(norm, i)
        for i, entry in enumerate(value):
            yield from repeated_ids_and_texts(entry, (*where, name, i))
