"""The duplicate check's index leads with the message id: (message_id, workspace_id).

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


def upgrade() -> None:
    op.drop_index('uq_event_message_id', table_name='event')
    op.create_index('uq_event_message_id', 'event', ['message_id', 'workspace_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_event_message_id', table_name='event')
    op.create_index('uq_event_message_id', 'event', ['workspace_id', 'message_id'], unique=True)
