"""Sandbox workspaces: a flag and the virtual clock a sandbox runs on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspace') as batch:
        batch.add_column(sa.Column('sandbox', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('clock_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspace') as batch:
        batch.drop_column('clock_at')
        batch.drop_column('sandbox')
