"""Computed traits (definitions and per-contact values) and tag rules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:59:45.301995
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('computed_trait',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('function', sa.String(length=20), nullable=False),
    sa.Column('value_type', sa.String(length=10), nullable=False),
    sa.Column('time_dependent', sa.Boolean(), nullable=False),
    sa.Column('needs_refresh', sa.Boolean(), nullable=False),
    sa.Column('refreshed_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_computed_trait_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_computed_trait')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_computed_trait_workspace_id_name'))
    )
    op.create_table('computed_trait_value',
    sa.Column('trait_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('instant', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_computed_trait_value_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trait_id'], ['computed_trait.id'], name=op.f('fk_computed_trait_value_trait_id_computed_trait'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trait_id', 'contact_id', name=op.f('pk_computed_trait_value'))
    )
    with op.batch_alter_table('computed_trait_value', schema=None) as batch_op:
        batch_op.create_index('ix_computed_trait_value_contact', ['contact_id'], unique=False)

    op.create_table('tag_rule',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_tag_rule_segment_id_segment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_tag_rule_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_rule')),
    sa.UniqueConstraint('workspace_id', 'segment_id', 'tag', name=op.f('uq_tag_rule_workspace_id_segment_id_tag'))
    )


def downgrade() -> None:

    op.drop_table('tag_rule')
    with op.batch_alter_table('computed_trait_value', schema=None) as batch_op:
        batch_op.drop_index('ix_computed_trait_value_contact')

    op.drop_table('computed_trait_value')
    op.drop_table('computed_trait')
