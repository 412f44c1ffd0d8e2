"""certificates.score and certificates.rule: what a certificate certified when issued
(the course score, and the course's certificate rule in words), for its public page

Revision ID: 6d2f8a4c1e37
Revises: a1d5c9e3f7b2
Create Date: 2026-12-08 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2f8a4c1e37"
down_revision: str | None = "a1d5c9e3f7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: a certificate issued before these were recorded keeps saying only what it
    # said then.
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("score", sa.Double(), nullable=True))
        batch.add_column(sa.Column("rule", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("rule")
        batch.drop_column("score")
