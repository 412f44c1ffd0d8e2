"""attempts.self_assessment: a learner's own rubric levels for their written work

Revision ID: 5e1f0a55e55d
Revises: 5c1f0a7d9e2b
Create Date: 2026-11-25 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a55e55d"
down_revision: str | None = "5c1f0a7d9e2b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("self_assessment", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("self_assessment")
