"""B2B accounts: accounts, their members (contacts), the score roll-up per score model and
the engaged threshold per model (docs/leads.md, "Accounts (B2B)").

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-13 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_TS = kairos.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('traits', _JSON, nullable=False),
    sa.Column('owner_user_id', _ID, nullable=True),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('rollup_stale', sa.Boolean(), nullable=False),
    sa.Column('rolled_up_at', _TS, nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['owner_user_id'], ['app_user.id'], name=op.f('fk_account_owner_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_account_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('workspace_id', 'external_id', name=op.f('uq_account_workspace_id_external_id'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_workspace_domain', ['workspace_id', 'domain'], unique=False)
        batch_op.create_index('ix_account_workspace_name', ['workspace_id', 'name'], unique=False)
        batch_op.create_index('ix_account_stale', ['rollup_stale'], unique=False)

    op.create_table('account_contact',
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_contact_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_account_contact_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'contact_id', name=op.f('pk_account_contact'))
    )
    with op.batch_alter_table('account_contact', schema=None) as batch_op:
        batch_op.create_index('ix_account_contact_contact', ['contact_id'], unique=False)

    op.create_table('account_score',
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('max_score', sa.Float(), nullable=False),
    sa.Column('engaged', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_score_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['score_model.id'], name=op.f('fk_account_score_model_id_score_model'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'model_id', name=op.f('pk_account_score'))
    )
    with op.batch_alter_table('account_score', schema=None) as batch_op:
        batch_op.create_index('ix_account_score_model_total', ['model_id', 'total'], unique=False)

    op.create_table('account_score_setting',
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('engaged_threshold', sa.Float(), nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['score_model.id'], name=op.f('fk_account_score_setting_model_id_score_model'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_account_score_setting'))
    )


def downgrade() -> None:
    op.drop_table('account_score_setting')
    with op.batch_alter_table('account_score', schema=None) as batch_op:
        batch_op.drop_index('ix_account_score_model_total')
    op.drop_table('account_score')
    with op.batch_alter_table('account_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_account_contact_contact')
    op.drop_table('account_contact')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_stale')
        batch_op.drop_index('ix_account_workspace_name')
        batch_op.drop_index('ix_account_workspace_domain')
    op.drop_table('account')
