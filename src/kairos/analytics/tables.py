"""Exchange rates: a workspace's table of currency rates against its base currency, with
the date each rate takes effect (``analytics/currency.py``)."""

from sqlalchemy import Column, Date, Float, ForeignKey, String, Table, UniqueConstraint

from kairos.db.metadata import metadata
from kairos.db.types import BigID, UTCDateTime

#: ``rate`` units of ``currency`` are worth 1 unit of ``base`` from ``valid_from`` (a UTC
#: date) until the currency's next row. Every row of a workspace has the same ``base``.
exchange_rate = Table(
    "exchange_rate",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("base", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("rate", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "currency", "valid_from"),
)
