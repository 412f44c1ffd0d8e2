"""Read a course folder (course.yaml, lessons/*.md, exercises/*.yaml) into a Course.

Runs once at start-up. Every file is checked against its model (course.content.files and
each kind's Spec) and every problem collected before failing, each naming the file, the
line and the field, so an author fixes a whole batch in one go.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.content.errors import ContentError, Problem
from course.content.fields import grading_fingerprint, repeated_ids_and_texts
from course.content.files import CourseFile, ExerciseEnvelope, LessonHeader, exercise_file_model
from course.content.render import render_lesson, render_markdown
from course.content.schema import (
    AttemptPolicy,
    CertificateRule,
    Course,
    Exercise,
    Fact,
    Lesson,
    Section,
)
from course.content.wording import located_problems, validate_block
from course.content.yaml_source import YamlDocument, YamlProblem, read_yaml
from course.grading import registry


def load_course(content_dir: str | Path) -> Course:
    """Load and validate the course in `content_dir`; raise ContentError listing every problem."""
    root = Path(content_dir)
    problems: list[Problem] = []
    meta = _load_course_yaml(root, problems)
    if meta is None:
        raise ContentError(problems)
    context = {"sections": {s.id for s in meta.sections}, "facts": {f.id for f in meta.facts},
               "release": meta.release}

    loaded: list[_Loaded] = []
    for path in sorted((root / "lessons").glob("*.md")):
        loaded.append(_load_lesson(path, _display(root, path), context, problems))
    for path in sorted((root / "exercises").glob("*.y*ml")):
        loaded.append(_load_exercise(path, _display(root, path), context, problems))
    steps = [f.step for f in loaded if f.step is not None]
    problems.extend(_ids_used_twice([f for f in loaded if f.step is not None]))
    if not loaded and not problems:
        problems.append(Problem(_display(root, root), "", "no lessons or exercises found"))
    facts = tuple(Fact(f.id, f.text, f.taught_in) for f in meta.facts)
    if not problems:  # a lesson that failed to load would be blamed twice
        problems.extend(_check_taught_in(root, facts, steps))
    if problems:
        raise ContentError(problems)

    section_rank = {s.id: i for i, s in enumerate(meta.sections)}
    steps.sort(key=lambda s: (section_rank[s.section], s.order, s.kind != "lesson", s.id))
    return Course(title=meta.title, description_html=render_markdown(meta.description),
                  sections=tuple(Section(s.id, s.title) for s in meta.sections),
                  facts=facts, steps=tuple(steps),
                  certificate=CertificateRule(meta.certificate.steps,
                                              meta.certificate.graded_exercises))


def _check_taught_in(root: Path, facts: Iterable[Fact],
                     steps: Iterable[Lesson | Exercise]) -> list[Problem]:
    """Every fact's `taught_in` names a lesson that teaches the fact and a heading in it."""
    lessons = {s.id: s for s in steps if isinstance(s, Lesson)}
    problems = []
    where = _display(root, root / "course.yaml")
    for i, fact in enumerate(facts):
        if not fact.taught_in:
            continue
        field = f"facts[{i}].taught_in"
        lesson_id, _, anchor = fact.taught_in.partition("#")
        lesson = lessons.get(lesson_id)
        if lesson is None:
            problems.append(Problem(where, field, f"{lesson_id!r} is not a lesson id; write "
                                    "'lesson-id#heading-id'"))
        elif fact.id not in lesson.teaches:
            problems.append(Problem(where, field, f"lesson {lesson_id!r} does not list "
                                    f"{fact.id!r} in its `teaches`"))
        elif anchor and anchor not in lesson.anchors:
            problems.append(Problem(where, field, f"{anchor!r} is not a heading id in "
                                    f"{lesson.source_path}; its headings are "
                                    f"{', '.join(lesson.anchors) or 'none'}"))
    return problems


def coverage_gaps(course: Course) -> tuple[list[Fact], list[Fact]]:
    """Facts no lesson teaches, and facts no graded exercise (or item in one) checks."""
    taught = {f for s in course.steps if isinstance(s, Lesson) for f in s.teaches}
    checked = {f for e in course.exercises for f in e.covers}
    return ([f for f in course.facts if f.id not in taught],
            [f for f in course.facts if f.id not in checked])


def content_files(content_dir: str | Path) -> list[Path]:
    """Every file the loader reads (for a development server to watch)."""
    root = Path(content_dir)
    return [root / "course.yaml", *sorted((root / "lessons").glob("*.md")),
            *sorted((root / "exercises").glob("*.y*ml"))]


@dataclass(frozen=True)
class _Loaded:
    """A lesson or exercise file, read (step None when it has problems)."""

    path: Path
    display: str
    id_line: int | None
    step: Lesson | Exercise | None


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root.parent if path == root else root))
    except ValueError:
        return str(path)


def _parse(text: str, display: str, problems: list[Problem],
           part: str = "") -> YamlDocument | None:
    try:
        return read_yaml(text)
    except YamlProblem as exc:
        problems.append(Problem(display, part, f"not valid YAML: {exc.message}", exc.line))
        return None


def _load_course_yaml(root: Path, problems: list[Problem]) -> CourseFile | None:
    path = root / "course.yaml"
    display = _display(root, path)
    if not path.exists():
        problems.append(Problem(display, "", "missing: every course folder needs one"))
        return None
    doc = _parse(path.read_text(encoding="utf-8"), display, problems)
    if doc is None:
        return None
    meta, found = validate_block(CourseFile, doc, display, {})
    if meta is not None:
        found = located_problems(repeated_ids_and_texts(meta), doc, display)
    problems.extend(found)
    return None if found else meta


def _split_front_matter(text: str, display: str,
                        problems: list[Problem]) -> tuple[str, str] | None:
    """(header YAML, Markdown body) of a lesson."""
    if not text.startswith("---"):
        problems.append(Problem(display, "front matter",
                                "the file must start with a '---' header block", 1))
        return None
    parts = text.split("\n---", 2)
    if len(parts) < 2:
        problems.append(Problem(display, "front matter",
                                "the header block is not closed with a '---' line", 1))
        return None
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return parts[0][3:], body  # starts with the first line's newline: lines keep their numbers


def _load_lesson(path: Path, display: str, context: dict[str, Any],
                 problems: list[Problem]) -> _Loaded:
    failed = _Loaded(path, display, None, None)
    split = _split_front_matter(path.read_text(encoding="utf-8"), display, problems)
    if split is None:
        return failed
    header_text, body = split
    doc = _parse(header_text, display, problems, "front matter")
    if doc is None:
        return failed
    header, found = validate_block(LessonHeader, doc, display, context)
    if not body.strip():
        found.append(Problem(display, "body", "the lesson has no text"))
    problems.extend(found)
    if header is None or found:
        return failed
    html, anchors = render_lesson(body)
    lesson = Lesson(id=header.id, title=header.title, section=header.section,
                    order=header.order, minutes=header.minutes, summary=header.summary,
                    teaches=header.teaches, html=html, anchors=anchors,
                    source_path=display)
    return _Loaded(path, display, doc.lines.get(("id",)), lesson)


def _load_exercise(path: Path, display: str, context: dict[str, Any],
                   problems: list[Problem]) -> _Loaded:
    doc = _parse(path.read_text(encoding="utf-8"), display, problems)
    exercise, found = read_exercise(doc, display, context) if doc else (None, [])
    problems.extend(found)
    return _Loaded(path, display, doc.lines.get(("id",)) if doc else None, exercise)


def read_exercise(doc: YamlDocument, display: str,
                  context: dict[str, Any]) -> tuple[Exercise | None, list[Problem]]:
    """An exercise from its parsed file: the envelope and its kind's Spec in one model,
    then the spec's own cross-field checks. `context` holds the course's `sections` and
    `facts` (ids) to check references against, and the course's `release` (the default
    for an exercise whose policy does not set one)."""
    if not isinstance(doc.data, dict):
        return None, [Problem(display, "", "must be a block of `field: value` lines", 1)]
    kind_name = doc.data.get("kind")
    if kind_name not in registry.KINDS:
        return None, [Problem(display, "kind", f"unknown kind {kind_name!r}; use one of "
                              f"{', '.join(registry.KINDS)}", doc.line_of(("kind",)))]
    kind = registry.get_kind(kind_name)
    exercise_file, found = validate_block(exercise_file_model(kind.Spec), doc, display, context)
    if exercise_file is None:
        return None, found
    spec = kind.Spec.model_construct(
        **{name: getattr(exercise_file, name) for name in kind.Spec.model_fields})
    found = located_problems([*repeated_ids_and_texts(spec), *spec.problems()], doc, display)
    return (None, found) if found else (
        _exercise(exercise_file, spec, kind.AUTO_GRADED, display,
                  context.get("release", "manual")), [])


def _exercise(header: ExerciseEnvelope, spec: Any, auto_graded: bool, display: str,
              course_release: str) -> Exercise:
    policy = AttemptPolicy(**{**header.policy.model_dump(),
                              "release": header.policy.release or course_release})
    by_item = _covers_in(spec)
    item_covers = [fact for _id, facts in by_item for fact in facts]
    return Exercise(
        id=header.id, title=header.title, kind=header.kind, auto_graded=auto_graded,
        section=header.section, order=header.order, minutes=header.minutes,
        summary=header.summary,
        instructions_html=render_markdown(header.instructions),
        covers=tuple(dict.fromkeys([*header.covers, *item_covers])), policy=policy,
        version=grading_fingerprint(header.kind, spec, header.policy),
        source_path=display, spec=spec, item_covers=dict(by_item))


def _covers_in(spec: Any) -> list[tuple[str, tuple[str, ...]]]:
    """(item id, facts) for single items, cards, questions or prompts that name the facts
    they check (`items[3].covers`); result pages link each to the lesson teaching them."""
    found = []
    for name in type(spec).model_fields:
        entries = getattr(spec, name)
        for entry in entries if isinstance(entries, tuple) else ():
            covers = getattr(entry, "covers", ())
            if covers:
                found.append((getattr(entry, "id", name), covers))
    return found


def _ids_used_twice(loaded: list[_Loaded]) -> list[Problem]:
    """Two files with one id: the file changed most recently is the one named as wrong,
    since it is almost always the new file an author has just written."""
    by_age = sorted(loaded, key=lambda f: (f.path.stat().st_mtime_ns, f.display))
    first: dict[str, _Loaded] = {}
    problems = []
    for f in by_age:
        assert f.step is not None
        if f.step.id in first:
            problems.append(Problem(f.display, "id", f"'{f.step.id}' is already used by "
                                    f"{first[f.step.id].display}", f.id_line))
        first.setdefault(f.step.id, f)
    return problems
