"""Predictive conversion scores: predictive models (settings, status, model card, the fitted
model) and each contact's latest probability (docs/leads.md, "Predictive conversion score").

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-13 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kairos.db.types
from sqlalchemy.dialects import postgresql

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_TS = kairos.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('predictive_model',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('goal_event', sa.String(length=200), nullable=False),
    sa.Column('within_days', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=30), nullable=False),
    sa.Column('retrain_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('next_train_at', _TS, nullable=True),
    sa.Column('next_score_at', _TS, nullable=True),
    sa.Column('training_started_at', _TS, nullable=True),
    sa.Column('trained_at', _TS, nullable=True),
    sa.Column('scored_at', _TS, nullable=True),
    sa.Column('card', _JSON, nullable=True),
    sa.Column('spec', _JSON, nullable=True),
    sa.Column('artifact', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_predictive_model_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_predictive_model')),
    sa.UniqueConstraint('workspace_id', 'key', name=op.f('uq_predictive_model_workspace_id_key'))
    )
    with op.batch_alter_table('predictive_model', schema=None) as batch_op:
        batch_op.create_index('ix_predictive_model_next_train', ['next_train_at'], unique=False)

    op.create_table('contact_prediction',
    sa.Column('model_id', _ID, nullable=False),
    sa.Column('contact_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('contributions', _JSON, nullable=False),
    sa.Column('scored_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_prediction_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['predictive_model.id'], name=op.f('fk_contact_prediction_model_id_predictive_model'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'contact_id', name=op.f('pk_contact_prediction'))
    )
    with op.batch_alter_table('contact_prediction', schema=None) as batch_op:
        batch_op.create_index('ix_contact_prediction_model_probability', ['model_id', 'probability'], unique=False)
        batch_op.create_index('ix_contact_prediction_contact', ['contact_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_prediction', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_prediction_contact')
        batch_op.drop_index('ix_contact_prediction_model_probability')
    op.drop_table('contact_prediction')
    with op.batch_alter_table('predictive_model', schema=None) as batch_op:
        batch_op.drop_index('ix_predictive_model_next_train')
    op.drop_table('predictive_model')
