"""The ingest log: /v1 answers once the accepted messages are stored, and a processor turns
them into events and profiles right after (docs/architecture.md, "The ingest path").

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

import kairos.db.types

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'ingest_log',
        sa.Column('id', _ID, primary_key=True, autoincrement=True),
        sa.Column('workspace_id', _ID, nullable=False),
        sa.Column('received_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('virtual_now', kairos.db.types.UTCDateTime(timezone=True)),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('token', sa.BigInteger()),
        sa.Column('error', sa.Text()),
        sa.Column('messages', sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('ingest_log')
