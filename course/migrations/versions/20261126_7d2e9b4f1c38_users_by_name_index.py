"""users: index (role, display_name, id) for the gradebook's order by name

Revision ID: 7d2e9b4f1c38
Revises: 3a9c4e1b7d20
Create Date: 2026-11-26 00:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7d2e9b4f1c38"
down_revision: str | None = "3a9c4e1b7d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_role_name", "users", ["role", "display_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_role_name", table_name="users")
