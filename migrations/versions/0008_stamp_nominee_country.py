"""results stamp also replaced when a nominee's country changes: the nominations table keeps its country filter under the stamp

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 03:20:00.000000

"""
import importlib.util
from pathlib import Path

from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The trigger builders of revision 0007, loaded from its file: a revision's text never
# changes once released, so what it builds stays what it built.
_spec = importlib.util.spec_from_file_location(
    'revision_0007', Path(__file__).with_name('0007_category_results_stamp.py')
)
_0007 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_0007)

_COLUMNS_0007, _CATEGORIES = _0007.TABLES['nominations']
COLUMNS = (*_COLUMNS_0007, 'nominee_country')


def _nomination_triggers(columns):
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot alter a trigger's column list: each is made again.
        for event, body in _0007._sqlite_triggers('nominations', columns, _CATEGORIES).items():
            op.execute(f'DROP TRIGGER IF EXISTS stamp_results_nominations_{event}')
            op.execute(f'CREATE TRIGGER stamp_results_nominations_{event} {body}')
        return
    # PostgreSQL's statement triggers fire on every update; the function picks the columns.
    op.execute(
        _0007._postgresql_function('nominations', columns, _CATEGORIES).replace(
            'CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION', 1
        )
    )


def upgrade():
    _nomination_triggers(COLUMNS)


def downgrade():
    _nomination_triggers(_COLUMNS_0007)
