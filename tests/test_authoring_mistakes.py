"""`flask check-content` refuses each authoring mistake found while writing an exercise from
docs/AUTHORING.md alone, naming the file, the line and the field.

Each test makes one mistake in a copy of the shipped course and reads the command's output
as an author would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import check_content
from tests.review_factories import copy_course, edit_file

SORT = "exercises/roadmap-or-backlog.yaml"
NNL = "exercises/build-now-next-later.yaml"
QUIZ = "exercises/final-quiz.yaml"
LESSON = "lessons/02-product-vision.md"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_course(tmp_path)


def errors(content: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ERROR lines check-content prints; it must exit 1."""
    monkeypatch.setenv("COURSE_CONTENT_DIR", str(content))
    result = CliRunner().invoke(check_content)
    assert result.exit_code == 1, result.output
    return [line.removeprefix("ERROR ") for line in result.output.splitlines()
            if line.startswith("ERROR ")]


def line_of(content: Path, name: str, text: str, occurrence: int = 1) -> int:
    """The line number of the `occurrence`-th line containing `text`."""
    hits = [n for n, line in enumerate((content / name).read_text().splitlines(), start=1)
            if text in line]
    return hits[occurrence - 1]


def replace(content: Path, name: str, old: str, new: str) -> None:
    edit_file(content / name, lambda text: text.replace(old, new, 1))


def test_a_misspelt_policy_is_refused_with_the_allowed_fields(content, monkeypatch):
    replace(content, NNL, "\npolicy:", "\npolcy:")
    line = line_of(content, NNL, "polcy:")
    [error] = errors(content, monkeypatch)
    assert error.startswith(f"{NNL}:{line}: polcy: unknown field (allowed here: cards, covers, "
                            "id, instructions, kind, minutes, order, policy, rules, ")


def test_misspelt_instructions_are_refused(content, monkeypatch):
    replace(content, SORT, "\ninstructions:", "\ninstrutions:")
    [error] = errors(content, monkeypatch)
    assert error.startswith(f"{SORT}:{line_of(content, SORT, 'instrutions:')}: instrutions: "
                            "unknown field (allowed here: ")
    assert "instructions" in error


def test_an_unknown_field_inside_a_policy_is_refused(content, monkeypatch):
    replace(content, NNL, "  max_attempts: 3", "  max_attempt: 3")
    assert errors(content, monkeypatch) == [
        f"{NNL}:{line_of(content, NNL, 'max_attempt:')}: policy.max_attempt: unknown field "
        "(allowed here: counts, max_attempts, model_answer, pass_mark, release)"]


def test_an_unknown_field_in_course_yaml_is_refused(content, monkeypatch):
    replace(content, "course.yaml", "title:", "titel: Typo\ntitle:")
    [error] = errors(content, monkeypatch)
    assert error == (f"course.yaml:{line_of(content, 'course.yaml', 'titel:')}: titel: unknown "
                     "field (allowed here: certificate, description, facts, release, sections, "
                     "title)")


@pytest.mark.parametrize(("was", "rule", "said"), [
    ("\n  steps: all", "\n  steps: 120",
     "certificate.steps: 120 is not `all` or a percentage of the steps from 1 to 100"),
    ("\n  graded_exercises: passed", "\n  graded_exercises: some",
     "certificate.graded_exercises: 'some' is not allowed here; use 'passed' or 'any'"),
])
def test_a_certificate_rule_that_makes_no_sense_is_refused(content, monkeypatch, was, rule,
                                                           said):
    replace(content, "course.yaml", was, rule)
    [error] = errors(content, monkeypatch)
    assert error == f"course.yaml:{line_of(content, 'course.yaml', rule.strip())}: {said}"


def test_an_unknown_field_in_a_lesson_is_refused(content, monkeypatch):
    replace(content, LESSON, "\nminutes:", "\nminute:")
    found = errors(content, monkeypatch)
    line = line_of(content, LESSON, "minute:")
    assert f"{LESSON}:{line}: minute: unknown field (allowed here: id, minutes, order, " \
           "section, summary, teaches, title)" in found
    assert f"{LESSON}:2: minutes: is required" in found


def test_an_unknown_field_in_an_item_names_the_item_by_id(content, monkeypatch):
    replace(content, SORT, "    hint: Is this", "    hnit: Is this")
    found = errors(content, monkeypatch)
    line = line_of(content, SORT, "hnit:")
    assert (f"{SORT}:{line}: items['plan-in-ten-minutes'].hnit: unknown field (allowed "
            "here: bucket, covers, explanation, hint, id, text)") in found


def test_a_key_written_twice_is_refused(content, monkeypatch):
    replace(content, SORT, "    bucket: roadmap\n", "    bucket: roadmap\n    bucket: backlog\n")
    line = line_of(content, SORT, "bucket: backlog")
    assert errors(content, monkeypatch) == [
        f"{SORT}:{line}: not valid YAML: 'bucket' is written twice in the same block (first "
        f"on line {line - 1}); keep only one"]


def test_a_wrong_bucket_names_the_item_and_the_buckets(content, monkeypatch):
    replace(content, SORT, "    bucket: roadmap\n", "    bucket: roadmap \n")
    replace(content, SORT, "    bucket: roadmap\n", "    bucket: roadmpa\n")
    line = line_of(content, SORT, "bucket: roadmpa")
    found = errors(content, monkeypatch)
    assert any(e.startswith(f"{SORT}:{line}: items['") and e.endswith(
        "'].bucket: 'roadmpa' is not a bucket of this exercise (the buckets are: roadmap, "
        "backlog)") for e in found), found


def test_a_question_with_no_correct_option_is_refused(content, monkeypatch):
    replace(content, QUIZ, "correct: true", "correct: false")
    [error] = errors(content, monkeypatch)
    assert error.startswith(f"{QUIZ}:{line_of(content, QUIZ, '    options:')}: questions['")
    assert error.endswith("'].options: no option says `correct: true` (an option is false "
                          "unless it says so); mark the right answer")


def test_the_same_text_under_two_ids_is_refused(content, monkeypatch):
    text = (content / SORT).read_text()
    first_text = text.split("    text: ", 1)[1].split("\n", 1)[0]
    second_text = text.split("    text: ", 2)[2].split("\n", 1)[0]
    replace(content, SORT, f"    text: {second_text}\n", f"    text: {first_text}\n")
    [error] = errors(content, monkeypatch)
    line = line_of(content, SORT, f"text: {first_text}", occurrence=2)
    assert error.startswith(f"{SORT}:{line}: items['")
    assert error.endswith(f"'].text: duplicate text: items['plan-in-ten-minutes'] already "
                          f"has {first_text!r}; each entry needs its own text")


def test_a_duplicate_id_names_the_new_file(content, monkeypatch):
    new = content / "exercises" / "a-new-exercise.yaml"
    new.write_text((content / SORT).read_text())
    old_time = (content / SORT).stat().st_mtime_ns - 10**9
    os.utime(content / SORT, ns=(old_time, old_time))  # the new file is the newer one
    line = line_of(content, "exercises/a-new-exercise.yaml", "id: roadmap-or-backlog")
    assert errors(content, monkeypatch) == [
        f"exercises/a-new-exercise.yaml:{line}: id: 'roadmap-or-backlog' is already used by "
        f"{SORT}"]


def test_an_unknown_fact_lists_the_valid_ones(content, monkeypatch):
    replace(content, LESSON, "teaches: [", "teaches: [visoin, ")
    [error] = errors(content, monkeypatch)
    assert error.startswith(f"{LESSON}:{line_of(content, LESSON, 'teaches:')}: teaches: "
                            "'visoin' is not a fact id in course.yaml (the fact ids are: ")
    assert "vision, vision-vs-strategy" in error


def test_a_yaml_syntax_error_is_worded_for_an_author(content, monkeypatch):
    replace(content, SORT, "\nsummary: ", "\nsummary: In short: ")
    assert errors(content, monkeypatch) == [
        f"{SORT}:{line_of(content, SORT, 'summary:')}: not valid YAML: a ':' where YAML did "
        "not expect one; if the text itself contains ': ', put the whole value in quotes"]


def test_a_tab_is_worded_for_an_author(content, monkeypatch):
    replace(content, SORT, "    hint: Is this", "\thint: Is this")
    [error] = errors(content, monkeypatch)
    assert error.startswith(f"{SORT}:")
    assert "tab" in error and "spaces" in error


def test_starting_the_app_on_broken_content_prints_the_problems(content):
    replace(content, NNL, "\npolicy:", "\npolcy:")
    env = {**os.environ, "COURSE_CONTENT_DIR": str(content), "SECRET_KEY": "x" * 32,
           "DATABASE_URL": "sqlite://"}
    started = subprocess.run(
        [sys.executable, "-c", "from course import create_app; create_app()"],
        env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 1
    assert "Traceback" not in started.stderr
    printed = started.stderr.splitlines()
    assert printed[0] == "The course content has problems; the app cannot start:"
    assert len(printed) == 2
    assert printed[1].startswith(f"{NNL}:{line_of(content, NNL, 'polcy:')}: polcy: unknown "
                                 "field (allowed here: cards, covers, id, instructions, ")
