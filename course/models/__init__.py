"""The database tables. Import models from here; each lives in a module named for it."""

from course.models.aggregates import (
    DailyActivity,
    ExerciseTotals,
    ItemOutcome,
    LearnerCount,
    LearnerExercise,
)
from course.models.attempt import Attempt, ScoreChange
from course.models.base import Base
from course.models.certificate import Certificate
from course.models.mail import QueuedMail
from course.models.progress import StepProgress
from course.models.sign_in import SignIn
from course.models.user import Role, User

__all__ = ["Attempt", "Base", "Certificate", "DailyActivity", "ExerciseTotals", "ItemOutcome",
           "LearnerCount", "LearnerExercise", "QueuedMail", "Role", "ScoreChange", "SignIn",
           "StepProgress", "User"]
