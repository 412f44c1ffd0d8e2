"""attempts: the submissions queue's indexes also cover its status and draft conditions

ix_attempts_created, ix_attempts_exercise_created and ix_attempts_status_created gain
trailing status / draft_saved_at columns, so the queue's pages and its "N more after this
one" count check their filters in the index instead of reading each attempt's row.

Revision ID: c2e8f4a6b913
Revises: 3f9d2b7a6c41
Create Date: 2026-11-26 00:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c2e8f4a6b913"
down_revision: str | None = "3f9d2b7a6c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = {
    "ix_attempts_created": ["created_at", "id"],
    "ix_attempts_exercise_created": ["exercise_id", "created_at", "id"],
    "ix_attempts_status_created": ["status", "created_at", "id"],
}
AFTER = {
    "ix_attempts_created": ["created_at", "id", "status", "draft_saved_at"],
    "ix_attempts_exercise_created": ["exercise_id", "created_at", "id", "status",
                                     "draft_saved_at"],
    "ix_attempts_status_created": ["status", "created_at", "id", "draft_saved_at"],
}


def _replace(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="attempts")
        op.create_index(name, "attempts", columns)


def upgrade() -> None:
    _replace(AFTER)


def downgrade() -> None:
    _replace(BEFORE)
