"""Lead management: lifecycle rules and stage SLAs (with escalations), assignment rules,
lead owners and human tasks.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-20 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('assignment_rule',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('users', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('attribute', sa.String(length=100), nullable=True),
    sa.Column('territories', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reassign', sa.Boolean(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_assignment_rule_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_rule')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_assignment_rule_workspace_id_name'))
    )
    with op.batch_alter_table('assignment_rule', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_rule_workspace', ['workspace_id', 'stage', 'position'], unique=False)

    op.create_table('lifecycle_rule',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('from_stages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('condition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('event', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_lifecycle_rule_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_rule')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_lifecycle_rule_workspace_id_name'))
    )
    with op.batch_alter_table('lifecycle_rule', schema=None) as batch_op:
        batch_op.create_index('ix_lifecycle_rule_workspace', ['workspace_id', 'position'], unique=False)

    op.create_table('lifecycle_sla',
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('updated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_lifecycle_sla_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'stage', name=op.f('pk_lifecycle_sla'))
    )
    op.create_table('lead',
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('owner_user_id', _ID, nullable=True),
    sa.Column('rule_id', _ID, nullable=True),
    sa.Column('assigned_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_lead_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['app_user.id'], name=op.f('fk_lead_owner_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_lead_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_lead'))
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_owner', ['workspace_id', 'owner_user_id'], unique=False)

    op.create_table('lead_escalation',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('change_id', _ID, nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('stage_since', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('owner_user_id', _ID, nullable=True),
    sa.Column('notified', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('escalated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_lead_escalation_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_lead_escalation_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_escalation')),
    sa.UniqueConstraint('change_id', name=op.f('uq_lead_escalation_change_id'))
    )
    with op.batch_alter_table('lead_escalation', schema=None) as batch_op:
        batch_op.create_index('ix_lead_escalation_contact', ['contact_id'], unique=False)

    op.create_table('task',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('journey_id', _ID, nullable=True),
    sa.Column('enrollment_id', _ID, nullable=True),
    sa.Column('node', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('script', sa.Text(), nullable=True),
    sa.Column('assignee_user_id', _ID, nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('outcomes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('due_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('timeout_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by', _ID, nullable=True),
    sa.Column('escalated_at', kairos.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['app_user.id'], name=op.f('fk_task_assignee_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_task_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_task_enrollment_id_enrollment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_task_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sa.UniqueConstraint('workspace_id', 'key', name=op.f('uq_task_workspace_id_key'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_task_enrollment', ['enrollment_id'], unique=False)
        batch_op.create_index('ix_task_status_assignee', ['workspace_id', 'status', 'assignee_user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_status_assignee')
        batch_op.drop_index('ix_task_enrollment')
        batch_op.drop_index('ix_task_due')

    op.drop_table('task')
    with op.batch_alter_table('lead_escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_escalation_contact')

    op.drop_table('lead_escalation')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_owner')

    op.drop_table('lead')
    op.drop_table('lifecycle_sla')
    with op.batch_alter_table('lifecycle_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_lifecycle_rule_workspace')

    op.drop_table('lifecycle_rule')
    with op.batch_alter_table('assignment_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_rule_workspace')

    op.drop_table('assignment_rule')
