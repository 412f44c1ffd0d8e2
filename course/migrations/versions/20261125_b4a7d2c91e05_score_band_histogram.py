"""exercise_stats.band_0..band_4: the dashboard's score-distribution histogram, maintained

Filled here from learner_exercise_stats (whose score is each learner's counted score), with
the same edges as course.services.aggregates.BAND_EDGES; from then on the services keep it
in the same transaction as every change to a counted score.

Revision ID: b4a7d2c91e05
Revises: 5e1f0a55e55d
Create Date: 2026-11-25 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4a7d2c91e05"
down_revision: str | None = "5e1f0a55e55d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, lowest score, score below which) per band; frozen here, as a migration must be.
BANDS = (("band_0", None, 0.2), ("band_1", 0.2, 0.4), ("band_2", 0.4, 0.6),
         ("band_3", 0.6, 0.8), ("band_4", 0.8, None))


def upgrade() -> None:
    with op.batch_alter_table("exercise_stats") as batch:
        for column, _, _ in BANDS:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=False,
                                       server_default="0"))
    learners = sa.table("learner_exercise_stats", sa.column("exercise_id"),
                        sa.column("score", sa.Double()))
    totals = sa.table("exercise_stats", sa.column("exercise_id"),
                      *(sa.column(column) for column, _, _ in BANDS))
    for column, low, high in BANDS:
        count = (sa.select(sa.func.count()).select_from(learners)
                 .where(learners.c.exercise_id == totals.c.exercise_id,
                        learners.c.score.is_not(None)))
        if low is not None:
            count = count.where(learners.c.score >= low)
        if high is not None:
            count = count.where(learners.c.score < high)
        op.execute(totals.update().values({column: count.scalar_subquery()}))


def downgrade() -> None:
    with op.batch_alter_table("exercise_stats") as batch:
        for column, _, _ in BANDS:
            batch.drop_column(column)
