"""Instructor pages: everyone without the instructor role gets 403.

Views live in modules by page group; importing them registers their routes on `bp`.
"""

from course.instruct import dashboard, learners, reports, submissions  # noqa: F401
from course.instruct.blueprint import bp

__all__ = ["bp"]
