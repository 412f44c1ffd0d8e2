"""Read one YAML document the way course authors expect, remembering where each field is.

Three things plain `yaml.safe_load` gets wrong for authors: it reads off/on/yes/no as
booleans (`accept: [off]` would become False), it keeps the last of two identical keys
(two `bucket:` lines silently flip the answer key), and it forgets line numbers, so an
error could only say `items[4].bucket`, not where that is in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Location = tuple[str | int, ...]

# libyaml's parser is about ten times faster than the pure-Python one; the resolver and
# constructor stay in Python either way, so both loaders read the files identically.
try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class YamlProblem(Exception):
    """The text is not a YAML document an author meant; `line` counts from 1."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class YamlDocument:
    """The parsed data, and the line of every mapping key and list entry in it."""

    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """The line of the deepest part of `location` that is in the file.

        A missing field is reported on the line of the mapping that lacks it; parts of a
        validator's location that are not keys (a rule's `type` tag) are skipped.
        """
        found: Location = ()
        for part in location:
            if (*found, part) in self.lines:
                found = (*found, part)
        return self.lines.get(found)


class _CourseYamlLoader(_BaseLoader):
    """YAML with only true/false as booleans and no key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = (key_node.value if isinstance(key_node, yaml.ScalarNode)
                   else self.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlProblem(line, f"'{key}' is written twice in the same block (first "
                                        f"on line {seen[key]}); keep only one")
            seen[key] = line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_CourseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CourseYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

# libyaml's and PyYAML's wordings for the commonest slips, said the way an author would.
_AUTHOR_WORDING = (
    ("mapping values are not allowed",
     "a ':' where YAML did not expect one; if the text itself contains ': ', put the "
     "whole value in quotes"),
    ("found character '\\t' that cannot start any token",
     "a tab character; indent with spaces only"),
    ("found a tab character", "a tab character; indent with spaces only"),
    ("could not find expected ':'",
     "a line that should be `field: value` has no ':' (or a quote or bracket is not closed)"),
    ("did not find expected key",
     "the indentation does not line up with the field above (or a quote is not closed)"),
    ("did not find expected ',' or ']'", "a '[' list is not closed with ']'"),
    ("did not find expected ',' or '}'", "a '{' block is not closed with '}'"),
    ("found unexpected end of stream", "the file ends inside a quote or a bracket"),
    ("found undefined alias", "a '*' starts a value; put the value in quotes"),
    ("found character that cannot start any token",
     "a value starts with a character YAML reserves (such as ` @ % or *); put the value "
     "in quotes"),
    ("did not find expected <document start>",
     "there is text after the end of the data; check the indentation"),
)


def _author_message(exc: yaml.YAMLError) -> str:
    problem = str(getattr(exc, "problem", None) or exc)
    for parser_words, author_words in _AUTHOR_WORDING:
        if parser_words in problem:
            return author_words
    return problem


def read_yaml(text: str) -> YamlDocument:
    """Parse one document; YamlProblem names the line and says what to fix."""
    loader = _CourseYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise YamlProblem(mark.line + 1 if mark else None, _author_message(exc)) from None
    finally:
        loader.dispose()
    lines: dict[Location, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return YamlDocument(data, lines)


def _record_lines(node: yaml.Node, where: Location, lines: dict[Location, int]) -> None:
    lines.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            here = (*where, key_node.value)
            lines[here] = key_node.start_mark.line + 1
            _record_lines(value_node, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, entry in enumerate(node.value):
            _record_lines(entry, (*where, i), lines)
