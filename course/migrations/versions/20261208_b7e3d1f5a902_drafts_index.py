"""attempts.ix_attempts_drafts: every unreleased draft review by exercise, which the
dashboard, "Release all" and the queue's draft filter read, without reading the attempts
with no draft; it replaces ix_attempts_exercise_draft, which held every attempt

Revision ID: b7e3d1f5a902
Revises: 6d2f8a4c1e37
Create Date: 2026-12-08 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e3d1f5a902"
down_revision: str | None = "6d2f8a4c1e37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_attempts_drafts", "attempts",
                    ["exercise_id", "draft_saved_at", "status"],
                    sqlite_where=sa.text("draft_saved_at IS NOT NULL"),
                    postgresql_where=sa.text("draft_saved_at IS NOT NULL"))
    op.drop_index("ix_attempts_exercise_draft", table_name="attempts")


def downgrade() -> None:
    op.create_index("ix_attempts_exercise_draft", "attempts", ["exercise_id", "draft_saved_at"])
    op.drop_index("ix_attempts_drafts", table_name="attempts")
