"""Sample learners and realistic attempts, so every instructor page can be tried at once.

Used by `flask --app course demo-data` and by the benchmark. Answers start from each
exercise's model answer with some items moved, the way real learners get things wrong:
every item has its own difficulty and a favourite wrong place, and learners improve with
each retry. Every answer is scored by the real graders (course.grading.registry), so the
scores and feedback are what a learner would have got. Rows go in with bulk inserts so
100,000 attempts take seconds, not minutes. No Flask here: the session is passed in.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from course.content.schema import Course, Exercise
from course.db import analyse
from course.grading import registry
from course.grading.base import Result
from course.grading.rubric import Criterion, score_rubric
from course.models import Attempt, Role, StepProgress, User
from course.models.attempt import AttemptStatus
from course.models.timestamps import utcnow
from course.services.aggregates.rebuild import rebuild as rebuild_aggregates

DEMO_DOMAIN = "demo.example"
BATCH = 2000
# Learners who keep practising after finishing spend their extra attempts on exercises
# without an attempt limit; this caps the retries on limited ones when there is none.
UNLIMITED_TRIES = 3

FIRST_NAMES = (
    "Amara", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gabriel", "Hana", "Ines", "Jonas",
    "Kavya", "Liam", "Maëlle", "Noah", "Olu", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
    "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë", "Ana", "Björn", "Chidi", "Dagný",
    "Emma", "François", "Grace", "Hugo", "Iris", "José", "Kai", "Léa", "Mateo", "Nia",
    "Oskar", "Paula", "Ravi", "Sofia", "Theo", "Łucja",
)
LAST_NAMES = (
    "Adeyemi", "Berg", "Castillo", "Dubois", "Eriksen", "Fernández", "García", "Hoffmann",
    "Ito", "Jensen", "Kowalski", "Lefèvre", "Müller", "Nguyen", "Okafor", "Patel", "Quinn",
    "Rossi", "Schmidt", "Tanaka", "Uddin", "Van der Berg", "Wójcik", "Yamamoto", "Zhang",
    "Ångström", "Brennan", "Çelik", "Novák", "O'Connor", "Silva", "Núñez", "Åberg",
)
# Always among the first learners made: accents, and a name a spreadsheet would run as a
# formula, so the gradebook export's neutralising can be seen at work.
FIXED_NAMES = ("Zoë Ångström", "José Núñez", '=HYPERLINK("https://evil.example","Click")',
               "Nguyễn Thị Hà")

VISIONS = (
    "Every family eats well together without the weekly planning headache.",
    "A world where nobody wonders what is for dinner.",
    "Make cooking at home the easy choice for busy people.",
    "Our app will have recipes, a shopping list and a calendar by Q3.",
    "Help every neighbourhood share tools instead of buying them.",
)
STRATEGIES = (
    "Start with busy parents: plan a week of dinners in ten minutes, then add shopping.",
    "- Win students first with cheap recipes\n- Partner with one supermarket\n"
    "- Do **not** build a social network",
    "Focus on people who already cook twice a week and want variety; say no to diets.",
    "Build every feature users ask for and ship it fast.",
)
BOARD_CARDS = {
    "now": ("Cut the time a household spends planning meals", "Fewer abandoned plans",
            "Add a swap button", "Fix login bug"),
    "next": ("Make shopping take less time", "Help people cook with what they have"),
    "later": ("Healthier weeks without extra effort", "Cook together with friends"),
}
NOTES = (
    "User stories and bugs live in the **backlog**; the launch date sits in the delivery "
    "plan. Keeping them apart keeps the roadmap about outcomes.",
    "The login bug goes to the backlog. The release in March goes in the delivery plan.",
    "Everything is on the roadmap.",
)

COMMENTS = (
    "Clear and ambitious. Next time, say what you would **not** do.",
    "Good start. Several cards are features; rewrite them as outcomes for users.",
    "Strong work: focused Now column and broad Later items.",
    "The vision reads like a feature list. What change in people's lives are you after?",
)


@dataclass(frozen=True)
class DemoSummary:
    """What `fill` made, for the CLI to print."""

    learners: int
    attempts: int
    awaiting_review: int
    reviewed: int
    completed_steps: int
    first_email: str
    last_email: str
    finished_email: str | None  # the learner who finished the course, if one did


def demo_learner_count(session: Session) -> int:
    """How many demo learners the database already has (one query)."""
    return session.scalar(select(func.count()).select_from(User).where(
        User.email.like(f"learner%@{DEMO_DOMAIN}"))) or 0


def _next_number(session: Session) -> int:
    """The n of the next `learner{n}@demo.example`, so a forced second fill never
    collides with the first."""
    emails = session.scalars(select(User.email).where(
        User.email.like(f"learner%@{DEMO_DOMAIN}")))
    numbers = [int(m.group(1)) for e in emails
               if (m := re.fullmatch(rf"learner(\d+)@{re.escape(DEMO_DOMAIN)}", e))]
    return max(numbers, default=0) + 1


class _Profile:
    """An exercise plus, per item, how hard it is and where it goes wrong: the
    DemoLearner each kind's `demo_answer` asks, item by item."""

    def __init__(self, exercise: Exercise, rng: random.Random):
        self.exercise = exercise
        self.kind = registry.kind_of(exercise)
        # Its own generator, so an item's difficulty and favourite mistake stay the same
        # whoever answers and in whatever order items are asked about.
        self._traits = random.Random(rng.random())
        self.difficulty: dict[str, float] = {}
        self.favourite: dict[str, str] = {}
        self.skill = 0.0
        self.rng = rng

    def knows(self, item_id: str) -> bool:
        if item_id not in self.difficulty:
            self.difficulty[item_id] = self._traits.choice((0.0, 0.0, 0.05, 0.1, 0.2, 0.4))
        return self.rng.random() < self.skill - self.difficulty[item_id]

    def mistake(self, item_id: str, wrong: Sequence[str]) -> str:
        if item_id not in self.favourite:
            self.favourite[item_id] = self._traits.choice(list(wrong))
        if self.favourite[item_id] in wrong and self.rng.random() < 0.7:
            return self.favourite[item_id]
        return self.rng.choice(list(wrong))

    def write(self, topic: str) -> str:
        if topic in BOARD_CARDS:
            return self.rng.choice(BOARD_CARDS[topic])
        if topic == "vision":
            return self.rng.choice(VISIONS)
        if "notes" in topic:
            return self.rng.choice(NOTES)
        return self.rng.choice(STRATEGIES)

    def answer(self, skill: float, rng: random.Random) -> Any:
        """A plausible answer by a learner of this skill (0..1)."""
        self.skill, self.rng = skill, rng
        return self.kind.demo_answer(self.exercise.spec, self)


def _rubric_levels(criteria: Sequence[Criterion], skill: float,
                   rng: random.Random) -> dict[str, float]:
    """The levels an instructor might pick for work by a learner of this skill."""
    levels = {}
    for criterion in criteria:
        ordered = sorted(criterion.levels, key=lambda lv: lv.points)
        index = round(min(0.999, max(0.0, skill + rng.uniform(-0.3, 0.2)))
                      * (len(ordered) - 1))
        levels[criterion.id] = ordered[index].points
    return levels


def _quotas(total: int, learners: int, rng: random.Random) -> list[int]:
    """Split `total` attempts over learners unevenly (some do much more than others)."""
    weights = [rng.uniform(0.3, 1.7) for _ in range(learners)]
    scale = total / sum(weights)
    quotas = [int(w * scale) for w in weights]
    for i in range(total - sum(quotas)):
        quotas[i % learners] += 1
    return quotas


class _Grader:
    """registry.grade, remembered per distinct answer: many learners give the same
    answer (most often the right one), and grading is the slow part of filling."""

    def __init__(self) -> None:
        self.results: dict[tuple[str, str], tuple[Result, dict[str, Any]]] = {}

    def __call__(self, exercise: Exercise, answer: Any) -> tuple[Result, dict[str, Any]]:
        """The Result and its feedback JSON."""
        if not exercise.auto_graded:  # pending, and free text rarely repeats
            result = registry.grade(exercise, answer)
            return result, result.feedback_json()
        key = json.dumps(answer, sort_keys=True)
        cached = self.results.get((exercise.id, key))
        if cached is None:
            result = registry.grade(exercise, answer)
            cached = self.results[(exercise.id, key)] = (result, result.feedback_json())
        return cached


def _learner_attempts(user_id: int, quota: int, profiles: Sequence[_Profile],
                      grade: _Grader, rng: random.Random,
                      finisher: bool = False) -> tuple[list[dict[str, Any]], set[str]]:
    """One learner's attempts, in course order, and the exercise ids they passed.

    They retry an exercise until they pass or run out of attempts, then move on; with
    attempts to spare at the end they keep practising on unlimited exercises. A
    `finisher` gives the model answer (or, for written work, work an instructor grades at
    the rubric's top levels, reviewed and released) and passes each exercise at once.
    """
    base = rng.uniform(0.6, 0.98)
    now = utcnow()
    when = now - timedelta(days=rng.uniform(20, 60))
    step = timedelta(days=20) / max(quota, 1)
    rows: list[dict[str, Any]] = []
    passed: set[str] = set()
    used: dict[str, int] = {}

    def attempt(profile: _Profile) -> bool:
        nonlocal when
        exercise = profile.exercise
        number = used.get(exercise.id, 0) + 1
        used[exercise.id] = number
        skill = min(0.98, base + 0.12 * (number - 1))
        model = profile.kind.model_answer(exercise.spec) if finisher else None
        answer = profile.answer(skill, rng) if model is None else model
        result, feedback = grade(exercise, answer)
        when = min(when + step * rng.uniform(0.3, 1.7), now)  # never in the future
        row = {"user_id": user_id, "exercise_id": exercise.id,
               "exercise_version": exercise.version, "number": number,
               "submission_token": f"demo-{len(rows) + 1}", "answer": answer,
               "points": result.points, "max_points": result.max_points,
               "feedback": feedback, "created_at": when,
               "status": AttemptStatus.AUTO_GRADED.value, "auto_score": result.score,
               "score": result.score, "rubric": None, "reviewed_at": None,
               "instructor_feedback": None, "feedback_unread": False, "released_at": None}
        if result.pending:
            row.update(status=AttemptStatus.AWAITING_REVIEW.value, auto_score=None, score=None)
            # Some work is still in the queue (the learner waits for it); the rest has
            # been graded with the rubric, and a learner below the pass mark may retry.
            if finisher or rng.random() < 0.6:
                criteria = profile.kind.rubric(exercise.spec)
                levels = ({c.id: max(lv.points for lv in c.levels) for c in criteria}
                          if finisher else _rubric_levels(criteria, skill, rng))
                graded = score_rubric(criteria, levels)
                # The same record course.services.review stores for a rubric grade.
                rubric = {"levels": {i.item_id: i.credit for i in graded.items},
                          "points": graded.points, "max_points": graded.max_points,
                          "score": graded.score}
                row.update(status=AttemptStatus.REVIEWED.value, score=graded.score,
                           points=graded.points, max_points=graded.max_points,
                           rubric=rubric, instructor_feedback=rng.choice(COMMENTS),
                           feedback_unread=rng.random() < 0.3,
                           reviewed_at=when + timedelta(hours=rng.uniform(1, 48)))
                if finisher:  # a review saved as a draft, then released
                    row.update(released_at=row["reviewed_at"])
        row["passed"] = row["score"] is not None and row["score"] >= exercise.policy.pass_mark
        rows.append(row)
        if row["passed"]:
            passed.add(exercise.id)
        return bool(row["passed"]) or row["status"] == AttemptStatus.AWAITING_REVIEW.value

    for profile in profiles:
        limit = profile.exercise.policy.max_attempts or UNLIMITED_TRIES
        while len(rows) < quota and used.get(profile.exercise.id, 0) < limit:
            if attempt(profile):
                break
    practice = [p for p in profiles if p.exercise.policy.max_attempts is None]
    while practice and len(rows) < quota:
        attempt(rng.choice(practice))
    return rows, passed


def _progress_rows(user_id: int, course: Course, attempted: set[str], passed: set[str],
                   rng: random.Random, finisher: bool = False) -> list[dict[str, Any]]:
    """Steps done: passed exercises, and most lessons up to the furthest exercise tried
    (every lesson, for a finisher)."""
    furthest = max((i for i, s in enumerate(course.steps) if s.id in attempted), default=-1)
    done = [s.id for i, s in enumerate(course.steps)
            if s.id in passed or (s.kind == "lesson" and (
                finisher or (i < furthest and rng.random() < 0.85)))]
    return [{"user_id": user_id, "step_id": step_id, "completed_at": utcnow()}
            for step_id in done]


def _insert(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table.__table__), rows[start:start + BATCH])


def fill(session: Session, course: Course, learners: int = 40, attempts: int = 400,
         seed: int = 1, password: str = "demo-password") -> DemoSummary:
    """Add `learners` demo learners and about `attempts` attempts, and commit.

    Deterministic for a seed (apart from timestamps). The total can fall short of
    `attempts` only when the course has no exercise without an attempt limit. When the
    attempts reach one per exercise, the first learner has finished the course (every
    step done, every exercise passed, nothing awaiting review), so a certificate can be
    tried: `DemoSummary.finished_email`.
    """
    rng = random.Random(seed)
    first = _next_number(session)
    names = list(FIXED_NAMES)[:learners]
    names += [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
              for _ in range(learners - len(names))]
    password_hash = generate_password_hash(password)  # once: hashing is slow on purpose
    emails = [f"learner{first + i}@{DEMO_DOMAIN}" for i in range(learners)]
    user_ids = list(session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [{"email": email, "display_name": name, "password_hash": password_hash,
          "role": Role.LEARNER.value, "created_at": utcnow()}
         for email, name in zip(emails, names, strict=True)]))

    profiles = [_Profile(e, rng) for e in course.exercises]
    grader = _Grader()
    attempt_rows: list[dict[str, Any]] = []
    progress_rows: list[dict[str, Any]] = []
    # The finisher's one attempt per exercise comes out of the total; the rest is spread.
    finishing = len(profiles) if 0 < len(profiles) <= attempts else 0
    quotas = _quotas(attempts - finishing, learners, rng)
    quotas[0] += finishing
    for n, (user_id, quota) in enumerate(zip(user_ids, quotas, strict=True)):
        finisher = n == 0 and finishing > 0
        rows, passed = _learner_attempts(user_id, quota, profiles, grader, rng, finisher)
        attempt_rows += rows
        progress_rows += _progress_rows(user_id, course, {r["exercise_id"] for r in rows},
                                        passed, rng, finisher)
    _insert(session, Attempt, attempt_rows)
    _insert(session, StepProgress, progress_rows)
    session.commit()
    rebuild_aggregates(session, course)
    analyse(session)
    statuses = [r["status"] for r in attempt_rows]
    return DemoSummary(
        learners=learners, attempts=len(attempt_rows),
        awaiting_review=statuses.count(AttemptStatus.AWAITING_REVIEW.value),
        reviewed=statuses.count(AttemptStatus.REVIEWED.value),
        completed_steps=len(progress_rows),
        first_email=emails[0] if emails else "", last_email=emails[-1] if emails else "",
        finished_email=emails[0] if finishing else None)
