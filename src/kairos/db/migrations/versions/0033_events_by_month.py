"""Events by month: on PostgreSQL ``event`` becomes a table partitioned by range of
``timestamp`` (a partition a month and a default one, ``events/partitions.py``); the
duplicate check's memory moves to ``event_message`` on both databases, since PostgreSQL
requires the partition key in every unique index of a partitioned table.

Existing events are copied into the new table (one statement); their months get partitions,
as do the current month and the two after it.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 22:30:00.000000
"""
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa

import kairos.db.types

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

_COLUMNS = (
    'id', 'workspace_id', 'contact_id', 'type', 'name', 'message_id', 'user_id', 'anonymous_id',
    'properties', 'context', 'integrations', '"timestamp"', 'original_timestamp', 'sent_at', 'received_at',
)

_TABLE = """
CREATE TABLE event (
    id bigint NOT NULL DEFAULT nextval('event_id_seq'),
    workspace_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    type varchar(10) NOT NULL,
    name varchar(200),
    message_id varchar(255) NOT NULL,
    user_id varchar(255),
    anonymous_id varchar(255),
    properties jsonb NOT NULL,
    context jsonb,
    integrations jsonb,
    "timestamp" timestamptz NOT NULL,
    original_timestamp timestamptz,
    sent_at timestamptz,
    received_at timestamptz NOT NULL,
    CONSTRAINT {pk} PRIMARY KEY ({key}),
    CONSTRAINT fk_event_contact_id_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
    CONSTRAINT fk_event_workspace_id_workspace FOREIGN KEY (workspace_id) REFERENCES workspace (id)
        ON DELETE CASCADE
){partitioned}
"""

#: as migration 0032 set on the table before: each month is analysed after 1 % of it changed
_ANALYZE_OFTEN = 'autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 10000'

_INDEXES = (
    'CREATE INDEX ix_event_contact_name_ts ON event (contact_id, name, "timestamp", received_at)',
    'CREATE INDEX ix_event_workspace_name_ts ON event (workspace_id, name, "timestamp", contact_id)',
)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def _old_table_aside() -> None:
    op.execute('ALTER TABLE event RENAME TO event_before')
    op.execute('ALTER TABLE event_before DROP CONSTRAINT pk_event')
    op.execute('ALTER TABLE event_before DROP CONSTRAINT fk_event_contact_id_contact')
    op.execute('ALTER TABLE event_before DROP CONSTRAINT fk_event_workspace_id_workspace')
    op.execute('DROP INDEX IF EXISTS ix_event_contact_name_ts')
    op.execute('DROP INDEX IF EXISTS ix_event_workspace_name_ts')


def _copy_and_finish() -> None:
    columns = ', '.join(_COLUMNS)
    op.execute(f'INSERT INTO event ({columns}) SELECT {columns} FROM event_before')
    op.execute('ALTER SEQUENCE event_id_seq OWNED BY event.id')
    op.execute('DROP TABLE event_before')
    for sql in _INDEXES:
        op.execute(sql)


def upgrade() -> None:
    op.create_table(
        'event_message',
        sa.Column('message_id', sa.String(255), primary_key=True),
        sa.Column('workspace_id', _ID, primary_key=True),
        sa.Column('timestamp', kairos.db.types.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_event_message_timestamp', 'event_message', ['timestamp'])
    op.execute(
        'INSERT INTO event_message (message_id, workspace_id, "timestamp") '
        'SELECT message_id, workspace_id, "timestamp" FROM event'
    )
    op.drop_index('uq_event_message_id', table_name='event')
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    _old_table_aside()
    op.execute(_TABLE.format(pk='pk_event', key='id, "timestamp"', partitioned=' PARTITION BY RANGE ("timestamp")'))
    op.execute(f'CREATE TABLE event_default PARTITION OF event DEFAULT WITH ({_ANALYZE_OFTEN})')
    months = {
        date(m.year, m.month, 1)
        for m in bind.execute(
            sa.text("SELECT DISTINCT date_trunc('month', \"timestamp\" AT TIME ZONE 'UTC') FROM event_before")
        ).scalars()
    }
    now = bind.execute(sa.text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()  # the database's clock
    month = date(now.year, now.month, 1)
    for _ in range(3):
        months.add(month)
        month = _next(month)
    for m in sorted(months):
        op.execute(
            f"CREATE TABLE event_p{m.year:04d}{m.month:02d} PARTITION OF event "
            f"FOR VALUES FROM ('{_bound(m)}') TO ('{_bound(_next(m))}') WITH ({_ANALYZE_OFTEN})"
        )
    _copy_and_finish()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        _old_table_aside()
        op.execute(_TABLE.format(pk='pk_event', key='id', partitioned=''))
        _copy_and_finish()
    op.create_index('uq_event_message_id', 'event', ['workspace_id', 'message_id'], unique=True)
    op.drop_index('ix_event_message_timestamp', table_name='event_message')
    op.drop_table('event_message')
