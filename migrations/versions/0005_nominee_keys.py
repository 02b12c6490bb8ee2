"""nominee keys: the name and email as duplicates are compared, kept by the database and indexed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _name_key(column):
    # As awards.models.nominations._nominee_name_key wrote it on the day of this revision.
    value = column
    for blank in ("\t", "\n", "\r"):
        value = f"replace({value}, '{blank}', ' ')"
    for _pass in range(8):
        value = f"replace({value}, '  ', ' ')"
    return f"lower(trim({value}))"


def upgrade():
    # Generated columns, filled for the existing rows: STORED on PostgreSQL (the only kind
    # version 15 has), VIRTUAL on SQLite (the only kind it can add to an existing table; the
    # models say STORED, which only a new table could have, and both read and index alike).
    stored = op.get_bind().dialect.name != 'sqlite'
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'nominee_key',
                sa.String(length=200),
                sa.Computed(_name_key('nominee_name'), persisted=stored),
            )
        )
        batch_op.add_column(
            sa.Column(
                'nominee_email_key',
                sa.String(length=254),
                sa.Computed('lower(trim(nominee_email))', persisted=stored),
            )
        )
        batch_op.create_index(
            'ix_nominations_category_nominee_key', ['category_id', 'nominee_key'], unique=False
        )
        batch_op.create_index(
            'ix_nominations_category_nominee_email_key',
            ['category_id', 'nominee_email_key'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_index('ix_nominations_category_nominee_email_key')
        batch_op.drop_index('ix_nominations_category_nominee_key')
        batch_op.drop_column('nominee_email_key')
        batch_op.drop_column('nominee_key')
