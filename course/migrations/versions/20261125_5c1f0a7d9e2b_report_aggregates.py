"""report aggregates: learner_exercise_stats, exercise_stats, item_outcomes

The tables start empty; the app fills them from the attempts at its next start-up
(course.services.aggregates.fill_if_missing), or run `flask --app course rebuild-aggregates`.

Revision ID: 5c1f0a7d9e2b
Revises: 91bdaa90bed3
Create Date: 2026-11-25 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1f0a7d9e2b"
down_revision: str | None = "91bdaa90bed3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner_exercise_stats",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("awaiting", sa.Integer(), nullable=False),
        sa.Column("auto_graded", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("ever_passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "exercise_id"),
    )
    with op.batch_alter_table("learner_exercise_stats", schema=None) as batch_op:
        batch_op.create_index("ix_learner_exercise_stats_exercise", ["exercise_id", "user_id"],
                              unique=False)
    op.create_table(
        "exercise_stats",
        sa.Column("exercise_id", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("awaiting", sa.Integer(), nullable=False),
        sa.Column("auto_graded", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Double(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("exercise_id"),
    )
    op.create_table(
        "item_outcomes",
        sa.Column("exercise_id", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("exercise_id", "item_id", "outcome"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_scores")
        batch_op.create_index("ix_attempts_learner_scores",
                              ["user_id", "exercise_id", "number", "score", "passed", "status"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_learner_scores")
        batch_op.create_index("ix_attempts_scores",
                              ["user_id", "exercise_id", "number", "score", "passed"],
                              unique=False)
    op.drop_table("item_outcomes")
    op.drop_table("exercise_stats")
    with op.batch_alter_table("learner_exercise_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_learner_exercise_stats_exercise")
    op.drop_table("learner_exercise_stats")
