"""Acquisition source: each contact's first and last touch — channel group, UTM values,
referrer and landing URL (docs/leads.md, "Acquisition source").

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-13 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = kairos.db.types.UTCDateTime(timezone=True)


def _touch(name: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f'{name}_at', _TS, nullable=False),
        sa.Column(f'{name}_channel', sa.String(length=20), nullable=False),
        sa.Column(f'{name}_source', sa.String(length=255), nullable=True),
        sa.Column(f'{name}_medium', sa.String(length=255), nullable=True),
        sa.Column(f'{name}_campaign', sa.String(length=255), nullable=True),
        sa.Column(f'{name}_term', sa.String(length=255), nullable=True),
        sa.Column(f'{name}_content', sa.String(length=255), nullable=True),
        sa.Column(f'{name}_referrer', sa.Text(), nullable=True),
        sa.Column(f'{name}_landing_url', sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table('contact_acquisition',
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    *_touch('first'),
    *_touch('last'),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_acquisition_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_contact_acquisition_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_acquisition'))
    )
    with op.batch_alter_table('contact_acquisition', schema=None) as batch_op:
        batch_op.create_index('ix_contact_acquisition_workspace', ['workspace_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_acquisition', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_acquisition_workspace')
    op.drop_table('contact_acquisition')
