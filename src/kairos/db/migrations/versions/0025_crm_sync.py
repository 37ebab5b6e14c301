"""CRM sync: connections (HubSpot, Salesforce, a signed webhook), each contact's sync state
per connection (the sync outbox), the sync log, and the deals read back (docs/leads.md).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-12 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_TS = kairos.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('crm_connection',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('settings', _JSON, nullable=False),
    sa.Column('secrets', sa.Text(), nullable=True),
    sa.Column('field_mapping', _JSON, nullable=False),
    sa.Column('sync_scope', sa.String(length=12), nullable=False),
    sa.Column('segment_id', _ID, nullable=True),
    sa.Column('lifecycle_stages', _JSON, nullable=False),
    sa.Column('push_contacts', sa.Boolean(), nullable=False),
    sa.Column('pull_deals', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('poll_interval', sa.Integer(), nullable=False),
    sa.Column('deal_cursor', sa.String(length=64), nullable=True),
    sa.Column('next_poll_at', _TS, nullable=True),
    sa.Column('paused_until', _TS, nullable=True),
    sa.Column('pause_reason', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_crm_connection_segment_id_segment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_crm_connection_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_connection')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_crm_connection_workspace_id_name'))
    )
    op.create_table('crm_contact',
    sa.Column('connection_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('crm_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _TS, nullable=False),
    sa.Column('claimed_at', _TS, nullable=True),
    sa.Column('last_synced_at', _TS, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connection.id'], name=op.f('fk_crm_contact_connection_id_crm_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_crm_contact_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'contact_id', name=op.f('pk_crm_contact'))
    )
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.create_index('ix_crm_contact_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_crm_contact_contact', ['contact_id'], unique=False)
        batch_op.create_index('ix_crm_contact_crm_id', ['connection_id', 'crm_id'], unique=False)

    op.create_table('crm_sync_log',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('connection_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('crm_id', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connection.id'], name=op.f('fk_crm_sync_log_connection_id_crm_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_crm_sync_log_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_crm_sync_log_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_sync_log'))
    )
    with op.batch_alter_table('crm_sync_log', schema=None) as batch_op:
        batch_op.create_index('ix_crm_sync_log_contact', ['contact_id', 'id'], unique=False)

    op.create_table('crm_deal',
    sa.Column('connection_id', _ID, nullable=False),
    sa.Column('deal_id', sa.String(length=100), nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('stage', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connection.id'], name=op.f('fk_crm_deal_connection_id_crm_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_crm_deal_contact_id_contact'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('connection_id', 'deal_id', name=op.f('pk_crm_deal'))
    )


def downgrade() -> None:
    op.drop_table('crm_deal')
    with op.batch_alter_table('crm_sync_log', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_sync_log_contact')
    op.drop_table('crm_sync_log')
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_contact_crm_id')
        batch_op.drop_index('ix_crm_contact_contact')
        batch_op.drop_index('ix_crm_contact_due')
    op.drop_table('crm_contact')
    op.drop_table('crm_connection')
