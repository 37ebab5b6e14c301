"""Segments: definitions, memberships, membership transitions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:57:06.109355
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('segment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('time_dependent', sa.Boolean(), nullable=False),
    sa.Column('needs_refresh', sa.Boolean(), nullable=False),
    sa.Column('refreshed_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_segment_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_segment_workspace_id_name'))
    )
    op.create_table('membership_transition',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=7), nullable=False),
    sa.Column('at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_membership_transition_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_membership_transition_segment_id_segment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_membership_transition_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_transition'))
    )
    with op.batch_alter_table('membership_transition', schema=None) as batch_op:
        batch_op.create_index('ix_membership_transition_contact', ['contact_id'], unique=False)
        batch_op.create_index('ix_membership_transition_segment_at', ['segment_id', 'at'], unique=False)

    op.create_table('segment_membership',
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entered_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_segment_membership_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_segment_membership_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id', 'contact_id', name=op.f('pk_segment_membership'))
    )
    with op.batch_alter_table('segment_membership', schema=None) as batch_op:
        batch_op.create_index('ix_segment_membership_contact', ['contact_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('segment_membership', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_membership_contact')

    op.drop_table('segment_membership')
    with op.batch_alter_table('membership_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_transition_segment_at')
        batch_op.drop_index('ix_membership_transition_contact')

    op.drop_table('membership_transition')
    op.drop_table('segment')

