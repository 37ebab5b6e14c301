"""Foundation: workspaces and keys, contacts, identities, merges, attributes, tags, events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:12:46.406495
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kairos.db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('workspace',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace'))
    )
    op.create_table('api_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_api_key_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index('ix_api_key_workspace', ['workspace_id'], unique=False)

    op.create_table('attribute_definition',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_attribute_definition_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attribute_definition')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_attribute_definition_workspace_id_name'))
    )
    op.create_table('contact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('last_name', sa.String(length=200), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=40), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('traits', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('merged_into', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['merged_into'], ['contact.id'], name=op.f('fk_contact_merged_into_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_contact_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index('ix_contact_merged_into', ['merged_into'], unique=False)
        batch_op.create_index('ix_contact_workspace_id', ['workspace_id', 'id'], unique=False)

    op.create_table('contact_merge',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('survivor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merged_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_contact_merge_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_merge'))
    )
    with op.batch_alter_table('contact_merge', schema=None) as batch_op:
        batch_op.create_index('ix_contact_merge_workspace', ['workspace_id', 'survivor_id'], unique=False)

    op.create_table('idempotency_key',
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_idempotency_key_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'key', name=op.f('pk_idempotency_key'))
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_key_created_at'), ['created_at'], unique=False)

    op.create_table('tag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_tag_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_tag_workspace_id_name'))
    )
    op.create_table('contact_change',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('changed_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_change_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_change'))
    )
    with op.batch_alter_table('contact_change', schema=None) as batch_op:
        batch_op.create_index('ix_contact_change_changed_at', ['changed_at'], unique=False)

    op.create_table('contact_tag',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_tag_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_contact_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tag'))
    )
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.create_index('ix_contact_tag_tag', ['tag_id'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('anonymous_id', sa.String(length=255), nullable=True),
    sa.Column('properties', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('integrations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('timestamp', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('original_timestamp', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_event_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_event_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_contact_name_ts', ['contact_id', 'name', 'timestamp'], unique=False)
        batch_op.create_index('ix_event_workspace_name_ts', ['workspace_id', 'name', 'timestamp'], unique=False)
        batch_op.create_index('uq_event_message_id', ['workspace_id', 'message_id'], unique=True)

    op.create_table('identity',
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_identity_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_identity_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'kind', 'value', name=op.f('pk_identity'))
    )
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.create_index('ix_identity_contact', ['contact_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_contact')

    op.drop_table('identity')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('uq_event_message_id')
        batch_op.drop_index('ix_event_workspace_name_ts')
        batch_op.drop_index('ix_event_contact_name_ts')

    op.drop_table('event')
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_tag_tag')

    op.drop_table('contact_tag')
    with op.batch_alter_table('contact_change', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_change_changed_at')

    op.drop_table('contact_change')
    op.drop_table('tag')
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_key_created_at'))

    op.drop_table('idempotency_key')
    with op.batch_alter_table('contact_merge', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_merge_workspace')

    op.drop_table('contact_merge')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_workspace_id')
        batch_op.drop_index('ix_contact_merged_into')

    op.drop_table('contact')
    op.drop_table('attribute_definition')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index('ix_api_key_workspace')

    op.drop_table('api_key')
    op.drop_table('workspace')

