"""message subscriptions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_subscription',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_message_subscription_instance_id_process_instance'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_subscription')),
    )
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.create_index('ix_message_subscription_name', ['name', 'instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_subscription_instance_id'), ['instance_id'], unique=False)
    # Instances already waiting for messages get their subscriptions from the list kept on the row.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, waiting_messages FROM process_instance WHERE status = 'running'")).fetchall()
    import json
    for instance_id, waiting in rows:
        names = json.loads(waiting) if isinstance(waiting, str) else (waiting or [])
        for name in names:
            connection.execute(sa.text("INSERT INTO message_subscription (instance_id, name) VALUES (:i, :n)"),
                               {"i": instance_id, "n": name})


def downgrade() -> None:
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_subscription_instance_id'))
        batch_op.drop_index('ix_message_subscription_name')
    op.drop_table('message_subscription')
