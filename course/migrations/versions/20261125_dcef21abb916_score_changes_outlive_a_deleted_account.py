"""score changes outlive a deleted account

An audit row stays when the learner deletes their account, with attempt_id set to NULL
(services/account_data.py).

Revision ID: dcef21abb916
Revises: 78651656116c
Create Date: 2026-11-25 20:51:11.735524
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dcef21abb916"
down_revision: str | None = "78651656116c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL names the foreign key itself; SQLite's may be unnamed, and then batch mode
# is told how to name it in the copy it makes (Alembic's documented way to drop it).
_SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_NEW_NAME = "score_changes_attempt_id_fkey"


def _current_name() -> str:
    for fk in sa.inspect(op.get_bind()).get_foreign_keys("score_changes"):
        if fk["constrained_columns"] == ["attempt_id"]:
            return fk["name"] or "fk_score_changes_attempt_id_attempts"
    raise RuntimeError("score_changes.attempt_id has no foreign key to replace")


def _repoint(ondelete: str, nullable: bool) -> None:
    old_name = _current_name()
    with op.batch_alter_table("score_changes", naming_convention=_SQLITE_NAMES) as batch_op:
        batch_op.alter_column("attempt_id", existing_type=sa.Integer(), nullable=nullable)
        batch_op.drop_constraint(old_name, type_="foreignkey")
        batch_op.create_foreign_key(_NEW_NAME, "attempts", ["attempt_id"], ["id"],
                                    ondelete=ondelete)


def upgrade() -> None:
    _repoint("SET NULL", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM score_changes WHERE attempt_id IS NULL")
    _repoint("CASCADE", nullable=False)
