"""inbox indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OPEN_UNASSIGNED = "status = 'open' AND assignee IS NULL"


def upgrade() -> None:
    # The group-tasks view and its navigation count: open, unclaimed items in due order; instance_id makes
    # the count an index-only scan.
    op.create_index('ix_work_item_open_unassigned', 'work_item', ['due_at', 'id', 'instance_id'], unique=False,
                    postgresql_where=sa.text(OPEN_UNASSIGNED), sqlite_where=sa.text(OPEN_UNASSIGNED))


def downgrade() -> None:
    op.drop_index('ix_work_item_open_unassigned', table_name='work_item')
