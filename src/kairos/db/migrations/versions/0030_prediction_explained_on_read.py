"""Predictions: the explanations are computed when a contact's predictions are read, not
stored with every probability (docs/leads.md, "Predictive conversion score").

The daily re-score wrote three contributions as JSON for every contact of every model (about
200 bytes a contact, 200 MB a model at 1M contacts) and spent most of its time computing
them; a profile shows them for one contact at a time, so they are now computed then, from
the stored fit and the contact's features at the scoring instant.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    # SQLite >= 3.35 drops an unindexed column in place (batch mode would recreate the table)
    op.drop_column('contact_prediction', 'contributions')


def downgrade() -> None:
    op.add_column('contact_prediction', sa.Column('contributions', _JSON, server_default='[]', nullable=False))
