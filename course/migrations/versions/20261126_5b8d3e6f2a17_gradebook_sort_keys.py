"""users keep the gradebook's sort keys (score sum, awaiting review, steps done), indexed
both ways, and the number of learners is kept in learner_count

Revision ID: 5b8d3e6f2a17
Revises: c7e2f0a9d4b1
Create Date: 2026-11-26 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8d3e6f2a17"
down_revision: str | None = "c7e2f0a9d4b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = ("score_sum", "awaiting", "steps_done")


def upgrade() -> None:
    # Plain ALTER TABLE on both engines: SQLite's batch mode would copy the users table,
    # and dropping the old copy would delete every row that cascades from an account.
    op.add_column("users", sa.Column("score_sum", sa.Double(), server_default="0",
                                     nullable=False))
    op.add_column("users", sa.Column("awaiting", sa.Integer(), server_default="0",
                                     nullable=False))
    op.add_column("users", sa.Column("steps_done", sa.Integer(), server_default="0",
                                     nullable=False))
    # What course.services.aggregates.rebuild computes, from the kept per-exercise rows.
    op.execute("""
        UPDATE users SET
          score_sum = COALESCE((SELECT SUM(s.score) FROM learner_exercise_stats s
                                WHERE s.user_id = users.id), 0),
          awaiting = (SELECT COUNT(*) FROM learner_exercise_stats s
                      WHERE s.user_id = users.id AND s.score IS NULL),
          steps_done = (SELECT COUNT(*) FROM step_progress p WHERE p.user_id = users.id)
    """)
    for key in KEYS:
        op.create_index(f"ix_users_role_{key}", "users", ["role", key, "display_name", "id"])
        op.create_index(f"ix_users_role_{key}_desc", "users",
                        ["role", sa.text(f"{key} DESC"), "display_name", "id"])
    op.create_table(
        "learner_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO learner_count (id, learners) "
               "SELECT 1, COUNT(*) FROM users WHERE role = 'learner'")


def downgrade() -> None:
    op.drop_table("learner_count")
    for key in KEYS:
        op.drop_index(f"ix_users_role_{key}_desc", table_name="users")
        op.drop_index(f"ix_users_role_{key}", table_name="users")
    for key in reversed(KEYS):
        op.drop_column("users", key)  # SQLite 3.35+ drops a column in place
