"""Sandbox workspaces: a flag and the virtual clock a sandbox runs on.

Plain ``ADD COLUMN`` on purpose, not batch mode: on SQLite a batch operation recreates the
table, and dropping ``workspace`` would cascade to every row that refers to it.

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
    op.add_column('workspace', sa.Column('sandbox', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('workspace', sa.Column('clock_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('workspace', 'clock_at')
    op.drop_column('workspace', 'sandbox')
