"""sign-ins, so sign-out ends a session

Sessions signed in before this migration carry no sign-in token and are signed out once.

Revision ID: 78651656116c
Revises: e799b71267cd
Create Date: 2026-11-25 20:48:42.191636
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "78651656116c"
down_revision: str | None = "e799b71267cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_ins',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.create_index('ix_sign_ins_user', ['user_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_ins_user')

    op.drop_table('sign_ins')
