"""Landing pages may carry their own content: ``body_format`` (mjml or html) and ``body``.

Until now a landing page was always rendered from an email template's body; a page written
in the console keeps its MJML or HTML on the page itself, so editing it never changes an
email. A page has either a ``template_id`` or a ``body`` (docs/forms.md).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch table copy on SQLite: nothing else is touched)
    op.add_column('landing_page', sa.Column('body_format', sa.String(length=10), nullable=True))
    op.add_column('landing_page', sa.Column('body', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('landing_page') as batch:
        batch.drop_column('body')
        batch.drop_column('body_format')
