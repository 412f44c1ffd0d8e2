"""attempts.ix_attempts_user_queue: one learner's attempts by time with the queue's filter
columns, so the queue filtered by learner reads attempts by learner

Revision ID: 8c4f1d2e6b90
Revises: 5b8d3e6f2a17
Create Date: 2026-11-26 03:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c4f1d2e6b90"
down_revision: str | None = "5b8d3e6f2a17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_attempts_user_queue", "attempts",
                    ["user_id", "created_at", "id", "exercise_id", "status", "draft_saved_at"])
    op.drop_index("ix_attempts_user_created", table_name="attempts")


def downgrade() -> None:
    op.create_index("ix_attempts_user_created", "attempts", ["user_id", "created_at", "id"])
    op.drop_index("ix_attempts_user_queue", table_name="attempts")
