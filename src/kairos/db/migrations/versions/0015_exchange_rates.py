"""Exchange rates: each workspace's currency rates against its base currency, by the date
they take effect, so reports convert revenue instead of adding unlike currencies.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-14 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_rate',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('base', sa.String(length=3), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_exchange_rate_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rate')),
    sa.UniqueConstraint('workspace_id', 'currency', 'valid_from', name=op.f('uq_exchange_rate_workspace_id_currency_valid_from'))
    )


def downgrade() -> None:
    op.drop_table('exchange_rate')
