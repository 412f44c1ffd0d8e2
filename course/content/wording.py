"""Validation errors said the way an author needs them: file, line, field path, and what
to write instead.

The field path names list entries by their id when they have one (`items['launch'].bucket`)
rather than by an index counting from 0, and the line is the one in the author's file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from course.content.errors import Problem
from course.content.fields import ID_RULE
from course.content.yaml_source import Location, YamlDocument


def _data_path(location: Location, data: Any) -> Location:
    """`location` with the parts that are not in the data (a union's tag) left out; the
    last part is kept, since it is usually a missing or unknown field."""
    kept: list[str | int] = []
    node = data
    for n, part in enumerate(location):
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            node = node[part]
        elif n < len(location) - 1:
            continue
        kept.append(part)
    return tuple(kept)


def field_path(location: Location, data: Any) -> str:
    """`('items', 4, 'bucket')` -> `items['launch-plan'].bucket` (the entry's id, if any)."""
    text = ""
    node = data
    for part in location:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            ident = entry.get("id") if isinstance(entry, dict) else None
            text += f"['{ident}']" if isinstance(ident, str | int) and ident != "" else f"[{part}]"
            node = entry
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def _shown(value: Any) -> str:
    return repr(value) if value is not None else "nothing"


_Wording = Callable[[ErrorDetails], str]
_MESSAGES: dict[str, _Wording] = {
    "missing": lambda e: "is required",
    "string_type": lambda e: f"must be text, not {_shown(e.get('input'))}",
    "string_too_short": lambda e: "must not be empty",
    "string_too_long": lambda e: f"must be at most {e['ctx']['max_length']} characters",
    "string_pattern_mismatch": lambda e: f"{_shown(e.get('input'))} must be {ID_RULE}",
    "int_type": lambda e: f"{_shown(e.get('input'))} must be a whole number",
    "int_from_float": lambda e: f"{_shown(e.get('input'))} must be a whole number",
    "float_type": lambda e: f"{_shown(e.get('input'))} must be a number",
    "finite_number": lambda e: "must be a finite number",
    "greater_than": lambda e: f"{_shown(e.get('input'))} must be more than {e['ctx']['gt']:g}",
    "greater_than_equal": lambda e: (
        f"{_shown(e.get('input'))} must be a "
        f"{'whole ' if isinstance(e.get('input'), int) else ''}number of at least "
        f"{e['ctx']['ge']:g}"),
    "less_than_equal": lambda e: f"{_shown(e.get('input'))} must be at most {e['ctx']['le']:g}",
    "bool_type": lambda e: f"{_shown(e.get('input'))} must be true or false",
    "literal_error": lambda e: (f"{_shown(e.get('input'))} is not allowed here; use "
                                f"{e['ctx']['expected']}"),
    "too_short": lambda e: (f"needs at least {e['ctx']['min_length']} "
                            f"entr{'y' if e['ctx']['min_length'] == 1 else 'ies'}"),
    "tuple_type": lambda e: "must be a list (one '- ' line per entry, or [a, b])",
    "list_type": lambda e: "must be a list (one '- ' line per entry, or [a, b])",
    "model_type": lambda e: "must be a block of `field: value` lines",
    "dict_type": lambda e: "must be a block of `field: value` lines",
    "model_attributes_type": lambda e: "must be a block of `field: value` lines",
    "union_tag_not_found": lambda e: "is required: it says which sort of entry this is",
    "union_tag_invalid": lambda e: (f"{e['ctx']['tag']!r} is not allowed here; use "
                                    f"{e['ctx']['expected_tags']}"),
    "value_error": lambda e: e["msg"].removeprefix("Value error, "),
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The blocks an annotation can hold, through Annotated, unions, tuples and lists."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def allowed_fields(model: type[BaseModel], location: Location) -> list[str]:
    """The fields the block at `location` may have (`location` ends at a field in it)."""
    blocks = [model]
    for part in location[:-1]:
        if isinstance(part, int):
            continue  # a list entry: the element blocks are already the candidates
        holders = [b for b in blocks if part in b.model_fields]
        if holders:
            blocks = [m for b in holders for m in _models_in(b.model_fields[part].annotation)]
        else:  # a union's tag (a rule's `type`): keep the blocks whose type it names
            blocks = [b for b in blocks if any(part in get_args(f.annotation)
                                               for f in b.model_fields.values())]
    return sorted({name for b in blocks for name in b.model_fields})


def _problems_of_error(error: ErrorDetails, doc: YamlDocument, path: str,
                       model: type[BaseModel]) -> Problem:
    location = _data_path(tuple(error["loc"]), doc.data)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        location = (*location, error["ctx"]["discriminator"].strip("'"))
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(allowed_fields(model, tuple(error["loc"])))
        message = f"unknown field (allowed here: {allowed})"
    else:
        wording = _MESSAGES.get(error["type"])
        message = wording(error) if wording else error["msg"]
    return Problem(path, field_path(location, doc.data), message, doc.line_of(location))


def validation_problems(exc: ValidationError, doc: YamlDocument, path: str,
                        model: type[BaseModel]) -> list[Problem]:
    """Every error of validating `doc` against `model`, as Problems.

    A list whose entries are all invalid is also reported as too short; that second error
    would only send the author to the wrong place, so it is left out."""
    errors = exc.errors()
    inside = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}
    return [_problems_of_error(e, doc, path, model) for e in errors
            if not (e["type"] == "too_short" and tuple(e["loc"]) in inside)]


def located_problems(found: Iterable[tuple[Location, str]], doc: YamlDocument,
                     path: str) -> list[Problem]:
    """Problems from a model's own cross-field checks (`KindSpec.problems`)."""
    return [Problem(path, field_path(loc, doc.data), message, doc.line_of(loc))
            for loc, message in found]


def validate_block(model: type[BaseModel], doc: YamlDocument, path: str,
                   context: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """Validate a whole document against `model`; (the model or None, the problems)."""
    if not isinstance(doc.data, dict):
        return None, [Problem(path, "", "must be a block of `field: value` lines", 1)]
    try:
        return model.model_validate(doc.data, context=context), []
    except ValidationError as exc:
        return None, validation_problems(exc, doc, path, model)
