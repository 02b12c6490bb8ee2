"""assignment notices queued by the outbox worker: the assignments it has yet to announce

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Until this revision each assignment's notice was queued as the row was written; rows
    # left without a date (demo data) were never meant to be announced, and must not be now.
    op.execute('UPDATE assignments SET notified_at = created_at WHERE notified_at IS NULL')
    op.create_index(
        'ix_assignments_unnotified',
        'assignments',
        ['id'],
        unique=False,
        postgresql_where=sa.text('notified_at IS NULL'),
        sqlite_where=sa.text('notified_at IS NULL'),
    )


def downgrade():
    op.drop_index(
        'ix_assignments_unnotified',
        table_name='assignments',
        postgresql_where=sa.text('notified_at IS NULL'),
        sqlite_where=sa.text('notified_at IS NULL'),
    )
