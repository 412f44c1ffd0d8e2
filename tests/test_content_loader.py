"""The content loader: valid courses load in outline order, broken files name file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course.config import REPO_ROOT
from course.content.errors import ContentError, Problem
from course.content.loader import coverage_gaps, load_course
from course.content.schema import Exercise, Lesson

COURSE_YAML = """\
title: Tmp Course
description: A course built by a test.
sections:
  - id: first
    title: First section
  - id: second
    title: Second section
facts:
  - id: alpha
    text: Alpha is the first fact.
  - id: beta
    text: Beta is the second fact.
"""

LESSON = """\
---
id: {id}
title: Lesson {id}
section: {section}
order: {order}
minutes: 3
summary: A lesson.
teaches: [{teaches}]
---
Body of **{id}**.
"""

QUIZ = """\
id: {id}
title: Quiz {id}
kind: {kind}
section: {section}
order: {order}
minutes: 2
summary: A quiz.
covers: [alpha, beta]
instructions: Pick one.
questions:
  - id: q1
    type: single
    prompt: Which one?
    options:
      - id: a
        text: This one
        correct: true
        feedback: Right, this one.
      - id: b
        text: That one
        correct: false
        feedback: Look again.
"""


def write_course(root: Path) -> Path:
    """A valid two-section course: three lessons and a quiz, written out of outline order."""
    (root / "lessons").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "course.yaml").write_text(COURSE_YAML)
    lessons = {
        "a-late.md": dict(id="second-intro", section="second", order=10, teaches="beta"),
        "b-early.md": dict(id="first-later", section="first", order=20, teaches="alpha"),
        "c-first.md": dict(id="first-intro", section="first", order=10, teaches="alpha"),
    }
    for name, fields in lessons.items():
        (root / "lessons" / name).write_text(LESSON.format(**fields))
    (root / "exercises" / "quiz.yaml").write_text(
        QUIZ.format(id="first-quiz", kind="quiz", section="first", order=15))
    return root


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return write_course(tmp_path / "course")


def problems_of(content_dir: Path) -> list[Problem]:
    with pytest.raises(ContentError) as excinfo:
        load_course(content_dir)
    assert excinfo.value.problems, "a ContentError must carry at least one problem"
    return excinfo.value.problems


def only_problem(content_dir: Path) -> Problem:
    problems = problems_of(content_dir)
    assert len(problems) == 1, problems
    return problems[0]


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_valid_course_loads_in_outline_order(course_dir: Path) -> None:
    course = load_course(course_dir)
    assert course.title == "Tmp Course"
    assert [s.id for s in course.sections] == ["first", "second"]
    assert [f.id for f in course.facts] == ["alpha", "beta"]
    # Section order first, then `order` inside a section; file names do not matter.
    assert [s.id for s in course.steps] == ["first-intro", "first-quiz", "first-later",
                                            "second-intro"]
    assert isinstance(course.step("first-intro"), Lesson)
    assert isinstance(course.step("first-quiz"), Exercise)
    assert course.lesson("first-quiz") is None
    assert "<strong>first-intro</strong>" in course.lesson("first-intro").html
    assert course.neighbours("first-intro") == (None, course.step("first-quiz"))
    assert coverage_gaps(course) == ([], [])


def test_shipped_course_loads_and_covers_every_fact() -> None:
    course = load_course(REPO_ROOT)
    assert course.title == "Introduction to Product Management"
    assert len([s for s in course.steps if s.kind == "lesson"]) >= 8
    assert course.exercises
    assert coverage_gaps(course) == ([], [])


def test_coverage_gaps_names_untaught_and_unchecked_facts(course_dir: Path) -> None:
    replace_in(course_dir / "course.yaml", "facts:\n",
               "facts:\n  - id: gamma\n    text: Gamma is never taught.\n")
    untaught, unchecked = coverage_gaps(load_course(course_dir))
    assert [f.id for f in untaught] == ["gamma"]
    assert [f.id for f in unchecked] == ["gamma"]


def test_missing_course_yaml(course_dir: Path) -> None:
    (course_dir / "course.yaml").unlink()
    problem = only_problem(course_dir)
    assert problem.path == "course.yaml"
    assert "missing" in problem.message


def test_bad_yaml_in_course_yaml_gives_line(course_dir: Path) -> None:
    (course_dir / "course.yaml").write_text("title: Tmp\nsections: [unclosed\nfacts: []\n")
    problem = only_problem(course_dir)
    assert problem.path == "course.yaml"
    assert "not valid YAML" in problem.message
    assert problem.line == 3
    assert "'[' list is not closed" in problem.message


def test_missing_front_matter(course_dir: Path) -> None:
    (course_dir / "lessons" / "b-early.md").write_text("Just a body, no header.\n")
    problem = only_problem(course_dir)
    assert problem.path == "lessons/b-early.md"
    assert problem.field == "front matter"
    assert "---" in problem.message


def test_unclosed_front_matter(course_dir: Path) -> None:
    (course_dir / "lessons" / "b-early.md").write_text("---\nid: first-later\ntitle: x\n")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "front matter")


def test_bad_yaml_in_front_matter_gives_line_number(course_dir: Path) -> None:
    path = course_dir / "lessons" / "b-early.md"
    replace_in(path, "title: Lesson first-later\n", "title: [unclosed\n")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "front matter")
    assert "not valid YAML" in problem.message
    assert problem.line in (3, 4)


def test_bad_yaml_in_exercise_gives_line_number(course_dir: Path) -> None:
    path = course_dir / "exercises" / "quiz.yaml"
    replace_in(path, "minutes: 2\n", "minutes: [2\n")
    problem = only_problem(course_dir)
    assert problem.path == "exercises/quiz.yaml"
    assert "not valid YAML" in problem.message
    assert problem.line in (6, 7)


def test_unknown_section(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "b-early.md", "section: first", "section: nowhere")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "section")
    assert "'nowhere'" in problem.message
    assert "first" in problem.message and "second" in problem.message


def test_duplicate_id_across_files(course_dir: Path) -> None:
    replace_in(course_dir / "exercises" / "quiz.yaml", "id: first-quiz", "id: first-intro")
    problem = only_problem(course_dir)
    assert problem.field == "id"
    assert "first-intro" in problem.message
    # One file is named as the problem, the other in the message.
    assert {problem.path, problem.message.rsplit(" ", 1)[-1]} == {
        "lessons/c-first.md", "exercises/quiz.yaml"}


def test_duplicate_id_between_two_lessons(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "b-early.md", "id: first-later", "id: first-intro")
    problem = only_problem(course_dir)
    assert problem.field == "id"
    assert "already used by lessons/" in problem.message


def test_unknown_fact_in_teaches(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "b-early.md", "teaches: [alpha]", "teaches: [omega]")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "teaches")
    assert "'omega'" in problem.message


def test_unknown_fact_in_covers(course_dir: Path) -> None:
    replace_in(course_dir / "exercises" / "quiz.yaml", "covers: [alpha, beta]",
               "covers: [alpha, omega]")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("exercises/quiz.yaml", "covers")
    assert "'omega'" in problem.message


@pytest.mark.parametrize("field,value", [
    ("order", "ten"), ("order", "1.5"), ("minutes", "three"), ("minutes", "0"),
    ("minutes", "true"),
])
def test_non_integer_order_or_minutes(course_dir: Path, field: str, value: str) -> None:
    path = course_dir / "lessons" / "b-early.md"
    old = "order: 20" if field == "order" else "minutes: 3"
    replace_in(path, old, f"{field}: {value}")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", field)
    assert "whole number" in problem.message


def test_non_integer_order_in_exercise(course_dir: Path) -> None:
    replace_in(course_dir / "exercises" / "quiz.yaml", "order: 15", "order: soon")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("exercises/quiz.yaml", "order")


def test_unknown_front_matter_field(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "b-early.md", "minutes: 3\n",
               "minutes: 3\nauthor: Somebody\n")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "author")
    assert "unknown field" in problem.message


def test_exercise_with_unknown_kind(course_dir: Path) -> None:
    replace_in(course_dir / "exercises" / "quiz.yaml", "kind: quiz", "kind: crossword")
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("exercises/quiz.yaml", "kind")
    assert "'crossword'" in problem.message
    assert "quiz" in problem.message  # names the kinds that do exist


def test_lesson_without_body(course_dir: Path) -> None:
    path = course_dir / "lessons" / "b-early.md"
    path.write_text(path.read_text().split("---\n", 2)[1].join(["---\n", "---\n"]))
    problem = only_problem(course_dir)
    assert (problem.path, problem.field) == ("lessons/b-early.md", "body")


def test_problems_in_several_files_are_all_reported(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "a-late.md", "section: second", "section: nowhere")
    (course_dir / "lessons" / "b-early.md").write_text("No header here.\n")
    replace_in(course_dir / "exercises" / "quiz.yaml", "kind: quiz", "kind: crossword")
    problems = problems_of(course_dir)
    found = {(p.path, p.field) for p in problems}
    assert ("lessons/a-late.md", "section") in found
    assert ("lessons/b-early.md", "front matter") in found
    assert ("exercises/quiz.yaml", "kind") in found


def test_several_problems_in_one_file_are_all_reported(course_dir: Path) -> None:
    path = course_dir / "lessons" / "b-early.md"
    replace_in(path, "order: 20", "order: later")
    replace_in(path, "teaches: [alpha]", "teaches: [omega]")
    fields = {p.field for p in problems_of(course_dir)}
    assert {"order", "teaches"} <= fields


def test_error_message_names_file_and_field(course_dir: Path) -> None:
    replace_in(course_dir / "lessons" / "b-early.md", "section: first", "section: nowhere")
    with pytest.raises(ContentError) as excinfo:
        load_course(course_dir)
    assert "lessons/b-early.md:4: section:" in str(excinfo.value)


def test_empty_course_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "course.yaml").write_text(COURSE_YAML)
    problems = problems_of(tmp_path)
    assert "no lessons or exercises" in problems[0].message


def test_fixture_course_loads() -> None:
    fixture = Path(__file__).parent / "fixture_course"
    course = load_course(fixture)
    assert course.title == "Fixture Course on Testing"
    assert [s.id for s in course.steps] == ["fixture-welcome", "fixture-next-steps"]
    untaught, _unchecked = coverage_gaps(course)
    assert untaught == []


def test_copy_of_shipped_course_loads(tmp_path: Path) -> None:
    """The shipped course is self-contained: its three parts are all the loader reads."""
    target = tmp_path / "copy"
    target.mkdir()
    shutil.copy(REPO_ROOT / "course.yaml", target / "course.yaml")
    shutil.copytree(REPO_ROOT / "lessons", target / "lessons")
    shutil.copytree(REPO_ROOT / "exercises", target / "exercises")
    assert load_course(target) == load_course(REPO_ROOT)
