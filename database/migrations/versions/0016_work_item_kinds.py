"""work item kinds: a request returned to its initiator waits as a resubmit item

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 18:10:37.315887
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='task', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_column('kind')
