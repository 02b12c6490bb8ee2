"""category results stamp: replaced by triggers whenever what a category's scores are made of changes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:05:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Each table whose rows a category's results are made of: the columns that matter to them,
# and how a set of its rows (aliased r) leads to their categories. Written out as on the day
# of this revision; a later migration that rebuilds one of these tables (SQLite's batch mode
# copies tables and loses their triggers) must create the triggers again.
TABLES = {
    'nominations': (
        ('category_id', 'state', 'number', 'reference', 'nominee_name'),
        'SELECT r.category_id FROM {rows} r',
    ),
    'assignments': (
        ('nomination_id', 'reviewer_id'),
        'SELECT n.category_id FROM {rows} r JOIN nominations n ON n.id = r.nomination_id',
    ),
    'reviews': (
        ('assignment_id', 'state'),
        'SELECT n.category_id FROM {rows} r JOIN assignments a ON a.id = r.assignment_id '
        'JOIN nominations n ON n.id = a.nomination_id',
    ),
    'scores': (
        ('review_id', 'criterion_id', 'value'),
        'SELECT n.category_id FROM {rows} r JOIN reviews v ON v.id = r.review_id '
        'JOIN assignments a ON a.id = v.assignment_id JOIN nominations n ON n.id = a.nomination_id',
    ),
}
EVENTS = ('insert', 'update', 'delete')

# A new random value, never a counter: a counter rolled back, or a database restored from a
# backup, would reuse a number for different contents, and a cache keyed by it would lie.
SQLITE_STAMP = 'lower(hex(randomblob(16)))'
POSTGRESQL_STAMP = 'md5(random()::text || clock_timestamp()::text)'


def _sqlite_triggers(table, columns, categories):
    # SQLite has row triggers only: the row's own values stand in for a set of rows.
    def lookup(row):
        values = ', '.join(f'{row}.{c} AS {c}' for c in columns)
        return categories.format(rows=f'(SELECT {values})')

    changed = ' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in columns)
    bump = f'UPDATE categories SET results_stamp = {SQLITE_STAMP} WHERE id IN '
    return {
        'insert': f'AFTER INSERT ON {table} BEGIN {bump}({lookup("NEW")}); END',
        'update': (
            f'AFTER UPDATE OF {", ".join(columns)} ON {table} WHEN {changed} '
            f'BEGIN {bump}({lookup("OLD")} UNION {lookup("NEW")}); END'
        ),
        'delete': f'AFTER DELETE ON {table} BEGIN {bump}({lookup("OLD")}); END',
    }


def _postgresql_function(table, columns, categories):
    # Statement triggers with transition tables: one UPDATE per statement, however many rows
    # it wrote (assigning inserts thousands of assignments in a few statements).
    old = ', '.join(f'o.{c}' for c in columns)
    new = ', '.join(f'n.{c}' for c in columns)
    changed_old = (
        f'(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id '
        f'WHERE ({old}) IS DISTINCT FROM ({new}))'
    )
    changed_new = (
        f'(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id '
        f'WHERE ({old}) IS DISTINCT FROM ({new}))'
    )
    bump = f'UPDATE categories SET results_stamp = {POSTGRESQL_STAMP} WHERE id IN '
    return f"""
CREATE FUNCTION stamp_results_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {bump}({categories.format(rows='new_rows')});
    ELSIF TG_OP = 'DELETE' THEN
        {bump}({categories.format(rows='old_rows')});
    ELSE
        {bump}({categories.format(rows=changed_old)}
               UNION {categories.format(rows=changed_new)});
    END IF;
    RETURN NULL;
END
$$"""


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column(
        'categories',
        sa.Column('results_stamp', sa.String(length=32), server_default='', nullable=False),
    )
    stamp = SQLITE_STAMP if dialect == 'sqlite' else POSTGRESQL_STAMP
    op.execute(f'UPDATE categories SET results_stamp = {stamp}')
    for table, (columns, categories) in TABLES.items():
        if dialect == 'sqlite':
            for event, body in _sqlite_triggers(table, columns, categories).items():
                op.execute(f'CREATE TRIGGER stamp_results_{table}_{event} {body}')
            continue
        op.execute(_postgresql_function(table, columns, categories))
        for event in EVENTS:
            transition = {
                'insert': 'NEW TABLE AS new_rows',
                'update': 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
                'delete': 'OLD TABLE AS old_rows',
            }[event]
            op.execute(
                f'CREATE TRIGGER stamp_results_{table}_{event} AFTER {event.upper()} '
                f'ON {table} REFERENCING {transition} FOR EACH STATEMENT '
                f'EXECUTE FUNCTION stamp_results_{table}()'
            )


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for event in EVENTS:
            op.execute(f'DROP TRIGGER IF EXISTS stamp_results_{table}_{event}' + (
                '' if dialect == 'sqlite' else f' ON {table}'
            ))
        if dialect != 'sqlite':
            op.execute(f'DROP FUNCTION IF EXISTS stamp_results_{table}()')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('results_stamp')
