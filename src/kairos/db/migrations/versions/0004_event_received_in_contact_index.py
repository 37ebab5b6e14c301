"""The per-contact event index also carries received_at, so the worker learns which events
a changed contact received since it was queued from the index alone; the per-name index
carries contact_id, so "who did X between t1 and t2" is answered from the index alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:00:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_contact_name_ts')
        batch_op.create_index('ix_event_contact_name_ts', ['contact_id', 'name', 'timestamp', 'received_at'], unique=False)
        batch_op.drop_index('ix_event_workspace_name_ts')
        batch_op.create_index('ix_event_workspace_name_ts', ['workspace_id', 'name', 'timestamp', 'contact_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_contact_name_ts')
        batch_op.create_index('ix_event_contact_name_ts', ['contact_id', 'name', 'timestamp'], unique=False)
        batch_op.drop_index('ix_event_workspace_name_ts')
        batch_op.create_index('ix_event_workspace_name_ts', ['workspace_id', 'name', 'timestamp'], unique=False)
