"""The workspace's time zone moves out of its messaging policy into its own setting.

``workspace.settings`` held the zone under ``messaging_policy.timezone``; the zone is the
workspace's (``PATCH /api/v1/workspace``), so it is now kept once, as ``settings.time_zone``
(``workspaces/settings.py``), and the messaging policy reads it from there. Data only.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
workspace = sa.table('workspace', sa.column('id', sa.BigInteger()), sa.column('settings', _DOC))


def upgrade() -> None:
    conn = op.get_bind()
    for ws_id, settings in conn.execute(sa.select(workspace.c.id, workspace.c.settings)).all():
        settings = dict(settings or {})
        policy = dict(settings.get('messaging_policy') or {})
        if 'timezone' not in policy:
            continue
        zone = policy.pop('timezone')
        if zone and 'time_zone' not in settings:
            settings['time_zone'] = zone
        settings['messaging_policy'] = policy
        conn.execute(sa.update(workspace).where(workspace.c.id == ws_id).values(settings=settings))


def downgrade() -> None:
    conn = op.get_bind()
    for ws_id, settings in conn.execute(sa.select(workspace.c.id, workspace.c.settings)).all():
        settings = dict(settings or {})
        zone = settings.pop('time_zone', None)
        if zone is None:
            continue
        settings['messaging_policy'] = {**(settings.get('messaging_policy') or {}), 'timezone': zone}
        conn.execute(sa.update(workspace).where(workspace.c.id == ws_id).values(settings=settings))
