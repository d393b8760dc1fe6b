"""keep candidate rows only for open work items

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Candidates of finished items are never read again; dropping them keeps the group inbox fast.
    op.execute("DELETE FROM work_item_candidate WHERE work_item_id IN "
               "(SELECT id FROM work_item WHERE status <> 'open')")


def downgrade() -> None:
    pass  # the deleted rows described finished tasks only; there is nothing to restore
