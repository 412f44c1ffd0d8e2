"""Read a course folder (course.yaml, lessons/*.md, exercises/*.yaml) into a Course.

Runs once at start-up. Every file is checked and every problem collected before failing,
each naming the file and the field, so an author fixes a whole batch in one go.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from course.content.errors import ContentError, Problem, Reporter
from course.content.render import render_markdown
from course.content.schema import AttemptPolicy, Course, Exercise, Fact, Lesson, Section
from course.grading import registry

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_FIELDS = {"id", "title", "section", "order", "minutes", "summary", "teaches"}
EXERCISE_HEADER = {"id", "title", "kind", "section", "order", "minutes", "summary", "covers",
                   "instructions", "policy"}
POLICY_FIELDS = {"max_attempts", "counts", "pass_mark", "model_answer"}
MODEL_ANSWER_WHEN = ("after_pass", "after_last_attempt", "after_pass_or_last_attempt", "never")


def load_course(content_dir: str | Path) -> Course:
    """Load and validate the course in `content_dir`; raise ContentError listing every problem."""
    root = Path(content_dir)
    problems: list[Problem] = []
    meta = _load_course_meta(root, problems)
    if meta is None:
        raise ContentError(problems)
    title, description, sections, facts = meta
    section_ids = {s.id for s in sections}
    fact_ids = {f.id for f in facts}

    steps: list[Lesson | Exercise] = []
    for path in sorted((root / "lessons").glob("*.md")):
        report = Reporter(_display(root, path))
        lesson = _load_lesson(path, report, section_ids, fact_ids)
        problems.extend(report.problems)
        if lesson:
            steps.append(lesson)
    for path in sorted((root / "exercises").glob("*.y*ml")):
        report = Reporter(_display(root, path))
        exercise = _load_exercise(path, report, section_ids, fact_ids)
        problems.extend(report.problems)
        if exercise:
            steps.append(exercise)

    seen: dict[str, str] = {}
    for step in steps:
        if step.id in seen:
            problems.append(Problem(step.source_path, "id",
                                    f"'{step.id}' is already used by {seen[step.id]}"))
        seen.setdefault(step.id, step.source_path)
    if not steps and not problems:
        problems.append(Problem(_display(root, root), "", "no lessons or exercises found"))
    if problems:
        raise ContentError(problems)

    section_rank = {s.id: i for i, s in enumerate(sections)}
    steps.sort(key=lambda s: (section_rank[s.section], s.order, s.kind != "lesson", s.id))
    return Course(title=title, description_html=str(render_markdown(description)),
                  sections=sections, facts=facts, steps=tuple(steps))


def coverage_gaps(course: Course) -> tuple[list[Fact], list[Fact]]:
    """Facts no lesson teaches, and facts no graded exercise (or item in one) checks."""
    taught = {f for s in course.steps if isinstance(s, Lesson) for f in s.teaches}
    checked = {f for e in course.exercises for f in e.covers}
    return ([f for f in course.facts if f.id not in taught],
            [f for f in course.facts if f.id not in checked])


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root.parent if path == root else root))
    except ValueError:
        return str(path)


# libyaml's parser is about four times faster than the pure-Python one; the resolver and
# constructor stay in Python either way, so both loaders read the files identically.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CourseYamlLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """YAML with only true/false as booleans.

    Plain YAML 1.1 reads off/on/yes/no as booleans, so `accept: [off]` in a plan exercise
    would silently become False; authors should not have to know to quote it.
    """


_CourseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CourseYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _read_yaml(text: str, report: Reporter, what: str) -> Any:
    try:
        return yaml.load(text, Loader=_CourseYamlLoader)  # a (C)SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        report.add(what, f"is not valid YAML{line}: {getattr(exc, 'problem', exc)}")
        return None


def _load_course_meta(root: Path, problems: list[Problem]):
    path = root / "course.yaml"
    report = Reporter(_display(root, path))
    if not path.exists():
        problems.append(Problem(report.path, "", "missing: every course folder needs one"))
        return None
    data = _read_yaml(path.read_text(encoding="utf-8"), report, "file")
    if data is not None and not isinstance(data, Mapping):
        report.add("file", "must be a mapping of fields")
        data = None
    if data is None:
        problems.extend(report.problems)
        return None
    title = _text(data, "title", report)
    description = _text(data, "description", report, required=False)
    sections = [Section(*pair) for pair in
                _id_text_pairs(_list(data, "sections", report), "sections", "title", report)]
    facts = [Fact(*pair) for pair in
             _id_text_pairs(data.get("facts") or [], "facts", "text", report)]
    _no_duplicates([s.id for s in sections], "sections", report)
    _no_duplicates([f.id for f in facts], "facts", report)
    problems.extend(report.problems)
    if not report.ok:
        return None
    return title, description, tuple(sections), tuple(facts)


def _id_text_pairs(entries: list, key: str, text_key: str,
                   report: Reporter) -> list[tuple[str, str]]:
    """(id, text) from a course.yaml list such as `sections` or `facts`."""
    pairs = []
    for i, item in enumerate(entries):
        where = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            report.add(where, f"must be a mapping with id and {text_key}")
            continue
        ident = _ident(item, "id", report, where)
        text = _text(item, text_key, report, where)
        if ident and text:
            pairs.append((ident, text))
    return pairs


def _split_front_matter(text: str, report: Reporter) -> tuple[Any, str]:
    if not text.startswith("---"):
        report.add("front matter", "the file must start with a '---' header block")
        return None, ""
    parts = text.split("\n---", 2)
    if len(parts) < 2:
        report.add("front matter", "the header block is not closed with a '---' line")
        return None, ""
    header_text = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return _read_yaml(header_text, report, "front matter"), body


def _load_lesson(path: Path, report: Reporter, sections: set[str],
                 facts: set[str]) -> Lesson | None:
    header, body = _split_front_matter(path.read_text(encoding="utf-8"), report)
    if header is None:
        return None
    if not isinstance(header, Mapping):
        report.add("front matter", "must be a mapping of fields")
        return None
    _unknown_fields(header, LESSON_FIELDS, report)
    step = _step_header(header, report, sections)
    teaches = _fact_list(header, "teaches", report, facts)
    if not body.strip():
        report.add("body", "the lesson has no text")
    if not report.ok:
        return None
    return Lesson(**step, teaches=teaches, html=str(render_markdown(body)),
                  source_path=report.path)


def _load_exercise(path: Path, report: Reporter, sections: set[str],
                   facts: set[str]) -> Exercise | None:
    raw = path.read_bytes()
    data = _read_yaml(raw.decode("utf-8", errors="replace"), report, "file")
    if data is None:
        return None
    if not isinstance(data, Mapping):
        report.add("file", "must be a mapping of fields")
        return None
    step = _step_header(data, report, sections)
    kind_name = data.get("kind")
    try:
        kind = registry.get_kind(kind_name)
    except (KeyError, TypeError):
        report.add("kind", f"unknown kind {kind_name!r}; use one of {', '.join(registry.KINDS)}")
        kind = None
    covers = _fact_list(data, "covers", report, facts, required=True)
    item_covers = _item_covers(data, report, facts)
    policy = _policy(data.get("policy") or {}, report)
    instructions = data.get("instructions", "")
    if not isinstance(instructions, str):
        report.add("instructions", "must be Markdown text")
    spec = kind.parse_spec(data, report) if kind else None
    if not report.ok or spec is None:
        return None
    return Exercise(**step, kind=kind.KIND, instructions_html=str(render_markdown(instructions)),
                    covers=tuple(dict.fromkeys(covers + item_covers)), policy=policy,
                    version=hashlib.sha256(raw).hexdigest()[:16], source_path=report.path,
                    spec=spec)


def _step_header(data: Mapping, report: Reporter, sections: set[str]) -> dict[str, Any]:
    section = data.get("section")
    if section not in sections:
        report.add("section", f"{section!r} is not a section of course.yaml "
                              f"({', '.join(sorted(sections))})")
    return {
        "id": _ident(data, "id", report),
        "title": _text(data, "title", report),
        "section": section,
        "order": _int(data, "order", report, minimum=0),
        "minutes": _int(data, "minutes", report, minimum=1),
        "summary": _text(data, "summary", report),
    }


def _policy(data: Any, report: Reporter) -> AttemptPolicy:
    if not isinstance(data, Mapping):
        report.add("policy", "must be a mapping")
        return AttemptPolicy()
    _unknown_fields(data, POLICY_FIELDS, report, prefix="policy.")
    defaults = AttemptPolicy()
    max_attempts = data.get("max_attempts", defaults.max_attempts)
    if max_attempts is not None and (not _is_int(max_attempts) or max_attempts < 1):
        report.add("policy.max_attempts", "must be a whole number of at least 1, or left out")
    counts = data.get("counts", defaults.counts)
    if counts not in ("highest", "latest"):
        report.add("policy.counts", f"{counts!r} must be 'highest' or 'latest'")
    pass_mark = data.get("pass_mark", defaults.pass_mark)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float) \
            or not 0 <= pass_mark <= 1:
        report.add("policy.pass_mark", "must be a number from 0 to 1")
    model_answer = data.get("model_answer", defaults.model_answer)
    if model_answer not in MODEL_ANSWER_WHEN:
        report.add("policy.model_answer", f"{model_answer!r} must be one of "
                                          f"{', '.join(MODEL_ANSWER_WHEN)}")
    if not report.ok:
        return defaults
    return AttemptPolicy(max_attempts=max_attempts, counts=counts, pass_mark=float(pass_mark),
                         model_answer=model_answer)


def _item_covers(data: Mapping, report: Reporter, facts: set[str]) -> tuple[str, ...]:
    """Facts named by single items, cards or questions (`items[3].covers`)."""
    found: list[str] = []
    for key in ("items", "cards", "questions", "prompts"):
        entries = data.get(key)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if isinstance(entry, Mapping) and "covers" in entry:
                found.extend(_fact_list(entry, "covers", report, facts, where=f"{key}[{i}]"))
    return tuple(found)


def _fact_list(data: Mapping, key: str, report: Reporter, facts: set[str],
               required: bool = False, where: str = "") -> tuple[str, ...]:
    field = f"{where}.{key}" if where else key
    value = data.get(key)
    if value is None:
        if required:
            report.add(field, "list the fact ids from course.yaml that this checks")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report.add(field, "must be a list of fact ids")
        return ()
    for fact in value:
        if fact not in facts:
            report.add(field, f"{fact!r} is not a fact id in course.yaml")
    return tuple(value)


def _unknown_fields(data: Mapping, known: set[str], report: Reporter, prefix: str = "") -> None:
    for key in data:
        if key not in known:
            expected = ", ".join(sorted(known))
            report.add(f"{prefix}{key}", f"unknown field (expected one of {expected})")


def _no_duplicates(ids: Iterable[str], field: str, report: Reporter) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            report.add(field, f"id {i!r} appears twice")
        seen.add(i)


def _ident(data: Mapping, key: str, report: Reporter, where: str = "") -> str:
    value = data.get(key)
    field = f"{where}.{key}" if where else key
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        report.add(field, f"{value!r} must be lowercase letters, digits and dashes "
                          "(for example 'product-vision')")
        return ""
    return value


def _text(data: Mapping, key: str, report: Reporter, where: str = "",
          required: bool = True) -> str:
    value = data.get(key)
    field = f"{where}.{key}" if where else key
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        report.add(field, "is required and must be text")
        return ""
    return value.strip()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(data: Mapping, key: str, report: Reporter, minimum: int) -> int:
    value = data.get(key)
    if not _is_int(value) or value < minimum:
        report.add(key, f"{value!r} must be a whole number of at least {minimum}")
        return 0
    return value


def _list(data: Mapping, key: str, report: Reporter) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        report.add(key, "must be a non-empty list")
        return []
    return value
