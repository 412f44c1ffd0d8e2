"""An exercise's version changes when its grading does, and only then.

A typo fixed in a hint must not send every learner with the page open a 409, and the
attempt page then shows the hint as it is now; moving an item to another bucket must.
"""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from course.content.loader import load_course
from course.db import get_session
from course.services.attempts import reads as attempt_reads
from course.services.attempts import report as attempt_page
from course.services.attempts import submit as submission
from course.site import get_course
from tests.helpers import make_user
from tests.review_factories import SORT, copy_course, edit_file, sort_form, submit

NNL = "build-now-next-later"
QUIZ = "final-quiz"

HINT = "    hint: Is this a result for users, or a piece of work?\n"
NEW_HINT = "    hint: Is this a result for people, or a piece of work?\n"


def _versions(content: Path) -> dict[str, str]:
    return {e.id: e.version for e in load_course(content).exercises}


def _replace(old: str, new: str):
    def change(text: str) -> str:
        return text.replace(old, new, 1)
    return change


WORDING_EDITS = [
    (SORT, HINT, NEW_HINT),
    (SORT, "title: Roadmap or backlog?", "title: Roadmap, or backlog?"),
    (SORT, "  Put every item into exactly one bucket:", "  Put each item into exactly one bucket:"),
    (SORT, "    label: Roadmap\n", "    label: The roadmap\n"),
    (SORT, "summary: ", "summary: In short, "),
    (NNL, "    feedback: >-\n", "    feedback: >-\n      Mind the column limit.\n"),
    (QUIZ, "        feedback: >-\n", "        feedback: >-\n          Think again.\n"),
]

def _second_option_correct_instead(text: str) -> str:
    """final-quiz: the first question's right answer becomes its second option."""
    first = text.index("correct: true")
    text = text[:first] + "correct: false" + text[first + len("correct: true"):]
    second = text.index("correct: false", first + 1)
    return text[:second] + "correct: true" + text[second + len("correct: false"):]


GRADING_EDITS = [
    (SORT, _replace("    bucket: roadmap\n    hint:", "    bucket: backlog\n    hint:")),
    (NNL, _replace("    max: 3\n", "    max: 4\n")),
    (NNL, _replace("  max_attempts: 3\n", "  max_attempts: 4\n")),
    (QUIZ, _second_option_correct_instead),
]


@pytest.mark.parametrize(("exercise_id", "old", "new"), WORDING_EDITS)
def test_wording_changes_keep_the_version(tmp_path: Path, exercise_id: str, old: str,
                                          new: str) -> None:
    content = copy_course(tmp_path)
    before = _versions(content)
    edit_file(content / "exercises" / f"{exercise_id}.yaml", _replace(old, new))
    assert _versions(content) == before


def test_time_and_place_in_the_outline_keep_the_version(tmp_path: Path) -> None:
    content = copy_course(tmp_path)
    before = _versions(content)
    edit_file(content / "exercises" / f"{SORT}.yaml",
              lambda text: text.replace("\nminutes: ", "\nminutes: 1", 1)
              .replace("\norder: ", "\norder: 1", 1))
    assert _versions(content) == before


@pytest.mark.parametrize(("exercise_id", "change"), GRADING_EDITS)
def test_grading_changes_change_the_version(tmp_path: Path, exercise_id: str,
                                            change) -> None:
    content = copy_course(tmp_path)
    before = _versions(content)
    edit_file(content / "exercises" / f"{exercise_id}.yaml", change)
    after = _versions(content)
    assert after.pop(exercise_id) != before.pop(exercise_id)
    assert after == before


def test_an_open_form_survives_a_hint_fix_and_shows_the_new_hint(make_app,
                                                                 tmp_path: Path) -> None:
    content = copy_course(tmp_path)
    before = make_app(COURSE_CONTENT_DIR=str(content))
    learner = make_user(before, "lee@example.com", "Lee Learner").id
    with before.app_context():
        opened_version = get_course().exercise(SORT).version
    wrong_first = sort_form(before, wrong=3)  # fails: hints, not explanations
    earlier = submit(before, learner, SORT, wrong_first)

    edit_file(content / "exercises" / f"{SORT}.yaml", _replace(HINT, NEW_HINT))
    after = make_app(COURSE_CONTENT_DIR=str(content))
    with after.app_context():
        exercise = get_course().exercise(SORT)
        assert exercise.version == opened_version
        session = get_session()
        # The form opened before the fix is graded, not refused as stale.
        attempt = submission.submit(session, learner, exercise, wrong_first,
                                    token=uuid4().hex, version=opened_version)
        standing = attempt_reads.standing(session, learner, exercise.id)
        for shown in (attempt, session.get(type(attempt), earlier)):
            report = attempt_page.attempt_report(exercise, shown, standing)
            assert report.items[0].mark == "wrong"
            assert report.items[0].message == NEW_HINT.split(": ", 1)[1].strip()
