"""Instructor pages: everyone without the instructor role gets 403."""

from course.instruct.views import bp

__all__ = ["bp"]
