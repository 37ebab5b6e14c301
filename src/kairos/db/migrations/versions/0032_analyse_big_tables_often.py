"""On PostgreSQL, the big tables' statistics are refreshed after 1 % of them changed.

Autovacuum analyses a table after 10 % of it changed: on a 20M-row event table a new
workspace could hold 2M events before the planner heard of it, and was planned as holding
one row — for the duplicate check, a scan of all its events per incoming id
(docs/benchmarks.md, "The ingest processor on PostgreSQL").

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 22:00:00.000000
"""
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


#: PostgreSQL's autovacuum analyses a table after 10 % of it changed: on a 20M-row event table
#: a new workspace could hold 2M events before the planner heard of it, and is planned as
#: holding one row. These tables are analysed after 1 % (and 10,000 rows) instead.
_ANALYZED_OFTEN = ('event', 'identity', 'contact')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in _ANALYZED_OFTEN:
            op.execute(
                f'ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.01, '
                'autovacuum_analyze_threshold = 10000)'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in _ANALYZED_OFTEN:
            op.execute(
                f'ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)'
            )
