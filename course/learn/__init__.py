"""Learner pages: the course outline, lessons, exercises, attempts and progress."""

from course.learn.views import bp

__all__ = ["bp"]
