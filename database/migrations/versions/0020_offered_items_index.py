"""offered items index: open, unclaimed work items by id, with their sort columns

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

OPEN_UNASSIGNED = "status = 'open' AND assignee IS NULL"


def upgrade() -> None:
    # The group-tasks view looks its items up by id from the caller's candidate rows. Probing this small index
    # instead of the primary key and the table makes its count an index-only scan, and lets a page be sorted
    # before any row is read (PostgreSQL carries the sort columns in the index).
    op.create_index('ix_work_item_offered', 'work_item', ['id'], unique=False,
                    postgresql_include=['due_at', 'priority', 'created_at'],
                    postgresql_where=sa.text(OPEN_UNASSIGNED), sqlite_where=sa.text(OPEN_UNASSIGNED))


def downgrade() -> None:
    op.drop_index('ix_work_item_offered', table_name='work_item')
