"""CRM account sync: accounts (B2B) pushed with their contacts — per connection the account
mapping and whether accounts are pushed, each account's sync state (the accounts outbox) and
the accounts' push log (docs/leads.md, "CRM sync", "Accounts").

Existing connections keep pushing contacts only (``push_accounts`` false, an empty
mapping) until an admin turns accounts on; new connections push them by default.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-14 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_TS = kairos.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # plain ADD COLUMN (no batch mode): on SQLite, recreating crm_connection would delete the
    # rows that refer to it by cascade
    op.add_column('crm_connection', sa.Column('push_accounts', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('crm_connection', sa.Column('account_mapping', _JSON, server_default=sa.text("'[]'"), nullable=False))
    op.create_table('crm_account',
    sa.Column('connection_id', _ID, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('crm_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=False),
    sa.Column('pushed_hash', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _TS, nullable=False),
    sa.Column('claimed_at', _TS, nullable=True),
    sa.Column('last_synced_at', _TS, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_crm_account_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connection.id'], name=op.f('fk_crm_account_connection_id_crm_connection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'account_id', name=op.f('pk_crm_account'))
    )
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.create_index('ix_crm_account_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_crm_account_account', ['account_id'], unique=False)

    op.create_table('crm_account_log',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('connection_id', _ID, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('crm_id', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_crm_account_log_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connection.id'], name=op.f('fk_crm_account_log_connection_id_crm_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_crm_account_log_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_account_log'))
    )
    with op.batch_alter_table('crm_account_log', schema=None) as batch_op:
        batch_op.create_index('ix_crm_account_log_account', ['account_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crm_account_log', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_account_log_account')
    op.drop_table('crm_account_log')
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_account_account')
        batch_op.drop_index('ix_crm_account_due')
    op.drop_table('crm_account')
    op.drop_column('crm_connection', 'account_mapping')
    op.drop_column('crm_connection', 'push_accounts')
