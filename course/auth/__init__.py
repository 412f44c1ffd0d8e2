"""Sign up, sign in, sign out."""

from course.auth.views import bp

__all__ = ["bp"]
