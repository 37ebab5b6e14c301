"""Lead scoring: score models and rules, current scores per contact and model, condition
holds and the score ledger (docs/leads.md, "Scoring").

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-11 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, kairos.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('score_model',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('decay', _JSON, nullable=False),
    sa.Column('min_score', sa.Float(), nullable=True),
    sa.Column('max_score', sa.Float(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('recompute_status', sa.String(length=10), nullable=False),
    sa.Column('recompute_cursor', _ID, nullable=False),
    sa.Column('recompute_done', sa.Integer(), nullable=False),
    sa.Column('recompute_total', sa.Integer(), nullable=False),
    _at('recompute_started_at'),
    _at('recompute_finished_at'),
    _at('decayed_at'),
    _at('conditions_checked_at'),
    _at('created_at', False),
    _at('updated_at', False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_score_model_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_model')),
    sa.UniqueConstraint('workspace_id', 'key', name=op.f('uq_score_model_workspace_id_key'))
    )
    op.create_table('score_rule',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('definition', _JSON, nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('cap_points', sa.Float(), nullable=True),
    sa.Column('cap_per', sa.String(length=5), nullable=True),
    _at('created_at', False),
    _at('updated_at', False),
    sa.ForeignKeyConstraint(['model_id'], ['score_model.id'], name=op.f('fk_score_rule_model_id_score_model'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_score_rule_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_rule'))
    )
    with op.batch_alter_table('score_rule', schema=None) as batch_op:
        batch_op.create_index('ix_score_rule_model', ['model_id'], unique=False)

    op.create_table('contact_score',
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    _at('changed_at', False),
    _at('active_at'),
    _at('decay_due_at'),
    sa.Column('covered_event_id', _ID, nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_score_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['score_model.id'], name=op.f('fk_contact_score_model_id_score_model'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'contact_id', name=op.f('pk_contact_score'))
    )
    with op.batch_alter_table('contact_score', schema=None) as batch_op:
        batch_op.create_index('ix_contact_score_model_score', ['model_id', 'score'], unique=False)
        batch_op.create_index('ix_contact_score_contact', ['contact_id'], unique=False)

    op.create_table('score_condition_hold',
    sa.Column('rule_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    _at('since', False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_score_condition_hold_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['score_rule.id'], name=op.f('fk_score_condition_hold_rule_id_score_rule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'contact_id', name=op.f('pk_score_condition_hold'))
    )
    with op.batch_alter_table('score_condition_hold', schema=None) as batch_op:
        batch_op.create_index('ix_score_condition_hold_contact', ['contact_id'], unique=False)

    op.create_table('score_ledger',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('rule_id', _ID, nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('delta', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('params', _JSON, nullable=False),
    sa.Column('event_id', _ID, nullable=True),
    _at('occurred_at'),
    _at('at', False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_score_ledger_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['score_model.id'], name=op.f('fk_score_ledger_model_id_score_model'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['score_rule.id'], name=op.f('fk_score_ledger_rule_id_score_rule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_score_ledger_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_ledger'))
    )
    with op.batch_alter_table('score_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_score_ledger_contact', ['contact_id', 'model_id', 'id'], unique=False)
        batch_op.create_index('ix_score_ledger_model_at', ['model_id', 'at'], unique=False)
        batch_op.create_index('ix_score_ledger_rule_event', ['rule_id', 'event_id'], unique=False)


def downgrade() -> None:
    op.drop_table('score_ledger')
    op.drop_table('score_condition_hold')
    op.drop_table('contact_score')
    op.drop_table('score_rule')
    op.drop_table('score_model')
