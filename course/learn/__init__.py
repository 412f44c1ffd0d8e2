"""Learner pages: the course outline, lessons, exercises, attempts and progress."""

from course.learn import completion, exercises  # noqa: F401  (register their routes on bp)
from course.learn.views import bp

__all__ = ["bp"]
