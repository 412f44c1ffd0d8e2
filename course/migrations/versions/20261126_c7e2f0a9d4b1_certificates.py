"""certificates: issued records verified by a random public id, revocable

Revision ID: c7e2f0a9d4b1
Revises: e4f1a7c3b285
Create Date: 2026-11-26 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e2f0a9d4b1"
down_revision: str | None = "e4f1a7c3b285"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Certificates were signed links with no row; a learner who finished gets a record
    # (and a new link) the next time they open their course results.
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("completed_on", sa.DateTime(), nullable=False),
        sa.Column("name_at_issue", sa.String(length=80), nullable=False),
        sa.Column("steps_passed", sa.Integer(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("certificates")
