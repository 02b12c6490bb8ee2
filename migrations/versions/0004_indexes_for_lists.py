"""indexes for the lists: people by name and date, outbox by state, nominations by submission

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_name', ['name'], unique=False)
        batch_op.create_index('ix_users_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_state_id', ['state', 'id'], unique=False)

    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_nominations_category_submitted', ['category_id', 'submitted_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_index('ix_nominations_category_submitted')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_state_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_created_at')
        batch_op.drop_index('ix_users_name')
