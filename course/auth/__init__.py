"""Sign up, sign in, sign out; the account page; forgotten passwords."""

from course.auth import account, password_reset  # noqa: F401  (routes on bp)
from course.auth.views import bp

__all__ = ["bp"]
