"""attempts.ix_attempts_unread: a learner's attempts with unread feedback, which every
signed-in page's header reads, without reading their other attempts

Revision ID: a1d5c9e3f7b2
Revises: 8c4f1d2e6b90
Create Date: 2026-12-06 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d5c9e3f7b2"
down_revision: str | None = "8c4f1d2e6b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_attempts_unread", "attempts", ["user_id", "exercise_id"],
                    sqlite_where=sa.text("feedback_unread = 1"),
                    postgresql_where=sa.text("feedback_unread = true"))


def downgrade() -> None:
    op.drop_index("ix_attempts_unread", table_name="attempts")
