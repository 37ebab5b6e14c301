"""Logging for ``kairos serve`` and ``kairos worker``: human-readable lines, or with
``KAIROS_LOG_FORMAT=json`` one JSON object per line (``time``, ``level``, ``logger``,
``message``, and ``exc_info`` with the traceback when there is one) for log shippers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str, fmt: str = "text") -> None:
    """A handler (stderr) on the root logger at ``level``, in ``fmt`` (``text`` or ``json``),
    unless it has one already (``logging.basicConfig``). uvicorn's loggers propagate to it
    when uvicorn is started with ``log_config=None`` (``uvicorn_log_config``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # httpx logs request URLs at INFO; some providers (WeChat) put credentials in the query
    logging.getLogger("httpx").setLevel(logging.WARNING)


def uvicorn_log_config(fmt: str) -> dict[str, Any] | None:
    """``uvicorn.run(log_config=…)``: uvicorn's default (text) config, or for JSON none at
    all, so its records reach the root logger's JSON handler."""
    if fmt != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return None
