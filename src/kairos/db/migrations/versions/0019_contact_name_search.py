"""The console's contact search by name: indexes on the lower-cased first and last names
(``text_pattern_ops`` on PostgreSQL, so ``LIKE 'prefix%'`` uses them).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("first_name", "last_name"):
        op.create_index(
            f"ix_contact_{column}_lower",
            "contact",
            ["workspace_id", sa.text(f"lower({column})")],
            postgresql_ops={f"lower({column})": "text_pattern_ops"},
            sqlite_where=sa.text("merged_into IS NULL"),
            postgresql_where=sa.text("merged_into IS NULL"),
        )


def downgrade() -> None:
    for column in ("first_name", "last_name"):
        op.drop_index(f"ix_contact_{column}_lower", table_name="contact")
