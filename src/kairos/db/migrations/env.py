"""Alembic environment: runs against the engine built from Kairos settings."""

from alembic import context

from kairos.config import get_settings
from kairos.db.engine import make_engine
from kairos.db.schema import metadata
from kairos.events.partitions import is_partition

config = context.config


def _declared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate compares the declared schema only: not the event table's monthly
    partitions, which the worker creates at run time (``events/partitions.py``)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (reflected and is_partition(table or ""))


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=metadata, render_as_batch=True, include_object=_declared
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(get_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, include_object=_declared
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `kairos db upgrade`.")
run_migrations_online()
