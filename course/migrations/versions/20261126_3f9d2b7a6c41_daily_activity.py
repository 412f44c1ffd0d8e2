"""daily_activity, learner_exercise_stats.first_passed_on: the activity chart's counts

daily_activity starts empty and first_passed_on NULL; the app fills both from the attempts
at its next start-up (course.services.aggregates.fill_if_missing rebuilds the aggregates
when there are attempts but no daily activity), or run `flask --app course
rebuild-aggregates`. The covering index for the upkeep gains created_at, which the day
of a learner's first pass is read from.

Revision ID: 3f9d2b7a6c41
Revises: 7d2e9b4f1c38
Create Date: 2026-11-26 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f9d2b7a6c41"
down_revision: str | None = "7d2e9b4f1c38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_COLUMNS = ["user_id", "exercise_id", "number", "score", "passed", "status"]


def upgrade() -> None:
    op.create_table(
        "daily_activity",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("exercise_id", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "exercise_id"),
    )
    with op.batch_alter_table("learner_exercise_stats") as batch:
        batch.add_column(sa.Column("first_passed_on", sa.Date(), nullable=True))
    op.drop_index("ix_attempts_learner_scores", table_name="attempts")
    op.create_index("ix_attempts_learner_scores", "attempts", [*OLD_COLUMNS, "created_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_learner_scores", table_name="attempts")
    op.create_index("ix_attempts_learner_scores", "attempts", OLD_COLUMNS)
    with op.batch_alter_table("learner_exercise_stats") as batch:
        batch.drop_column("first_passed_on")
    op.drop_table("daily_activity")
