"""The instructor blueprint and its single access check."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("instruct", __name__, url_prefix="/instructor")


@bp.before_request
@login_required
def _instructors_only() -> None:
    """Every page of this blueprint is for instructors; checked once, here."""
    if not current_user.is_instructor:
        abort(403)
