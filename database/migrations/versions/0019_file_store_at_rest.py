"""file store at rest: file_store_state, the at-rest setting and the progress of its job

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('file_store_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encrypt', sa.Boolean(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=10), nullable=False),
    sa.Column('run', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.String(length=64), nullable=False),
    sa.Column('total', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('done', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('failed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=150), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_store_state'))
    )


def downgrade() -> None:
    op.drop_table('file_store_state')
