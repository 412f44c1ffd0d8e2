"""A learner grading their own written work against the rubric.

In a self-paced course there may be no instructor for days, so after submitting the
learner can score their answer with the same rubric and compare it with the worked
example. The self-assessment is stored with the attempt, shown beside the instructor's
review when one arrives, and never changes the score. Nothing here imports Flask.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from course.content.schema import Exercise
from course.grading import registry, rubric
from course.grading.base import FormData
from course.models import Attempt
from course.services.attempts.reads import OwnAttempt


def save(session: Session, attempt: Attempt | OwnAttempt, exercise: Exercise,
         form: FormData) -> None:
    """Store the learner's rubric levels on their attempt (one UPDATE, then commit).

    Raises InvalidAnswer, storing nothing, when a criterion has no valid level. Doing it
    again replaces the earlier self-assessment: it is the learner's own note.
    """
    criteria = registry.kind_of(exercise).rubric(exercise.spec)
    levels = rubric.self_assessment_from_form(criteria, form)
    # No revision bump: the instructor's open review form must not become stale.
    session.execute(update(Attempt).where(Attempt.id == attempt.id)
                    .values(self_assessment=levels)
                    .execution_options(synchronize_session=False))
    session.commit()
