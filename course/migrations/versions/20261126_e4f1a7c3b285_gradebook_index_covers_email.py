"""users.ix_users_role_name also holds the email, so gradebook pages read the index alone

Revision ID: e4f1a7c3b285
Revises: c2e8f4a6b913
Create Date: 2026-11-26 00:58:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e4f1a7c3b285"
down_revision: str | None = "c2e8f4a6b913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_users_role_name", table_name="users")
    op.create_index("ix_users_role_name", "users", ["role", "display_name", "id", "email"])


def downgrade() -> None:
    op.drop_index("ix_users_role_name", table_name="users")
    op.create_index("ix_users_role_name", "users", ["role", "display_name", "id"])
