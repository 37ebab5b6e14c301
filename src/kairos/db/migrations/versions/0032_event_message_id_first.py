"""The duplicate check's index leads with the message id: (message_id, workspace_id); on
PostgreSQL the big tables' statistics are refreshed after 1 % of them changed.

PostgreSQL probed (workspace_id, message_id) through the workspace prefix of another index
when its statistics did not know the workspace yet (a new workspace importing its history):
a scan of all the workspace's events per incoming id. Led by message_id, the index is the
only one the probe can use (docs/benchmarks.md, "The ingest processor on PostgreSQL").

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
    op.drop_index('uq_event_message_id', table_name='event')
    op.create_index('uq_event_message_id', 'event', ['message_id', 'workspace_id'], unique=True)
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
    op.drop_index('uq_event_message_id', table_name='event')
    op.create_index('uq_event_message_id', 'event', ['workspace_id', 'message_id'], unique=True)
