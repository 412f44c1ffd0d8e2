"""Learner pages: the course outline, lessons, exercises, attempts and progress."""

from course.learn import exercises  # noqa: F401  (registers the exercise routes on bp)
from course.learn.views import bp

__all__ = ["bp"]
