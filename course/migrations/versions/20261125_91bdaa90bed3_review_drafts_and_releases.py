"""review drafts and releases; learners' feedback email setting

Revision ID: 91bdaa90bed3
Revises: dcef21abb916
Create Date: 2026-11-25 20:45:08.241101
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "91bdaa90bed3"
down_revision: str | None = "dcef21abb916"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("draft_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("draft_saved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("released_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_attempts_exercise_draft", ["exercise_id", "draft_saved_at"],
                              unique=False)
        batch_op.create_foreign_key("fk_attempts_draft_by_id_users", "users",
                                    ["draft_by_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_on_feedback", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_on_feedback")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_attempts_draft_by_id_users", type_="foreignkey")
        batch_op.drop_index("ix_attempts_exercise_draft")
        batch_op.drop_column("released_at")
        batch_op.drop_column("draft_saved_at")
        batch_op.drop_column("draft_by_id")
        batch_op.drop_column("draft")
