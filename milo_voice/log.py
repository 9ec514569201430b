"""Logging setup: key=value or JSON lines, stamped with the current interview and call ids.

Messages are constant event names; details travel in `extra`. Never log transcript text or audio
at INFO and above.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys

interview_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("interview_id", default="-")
call_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("call_id", default="-")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    """Stamps `interview_id` and `call_id` from context variables on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.interview_id = interview_id_var.get()
        record.call_id = call_id_var.get()
        return True


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{self.formatTime(record, '%H:%M:%S')}.{int(record.msecs):03d}",
            record.levelname.lower(),
            record.name,
            record.getMessage(),
        ]
        parts += [f"{k}={v}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "t": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure(level: str = "INFO", fmt: str = "kv") -> None:
    """Install one stderr handler on the `milo_voice` logger (idempotent)."""
    logger = logging.getLogger("milo_voice")
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(ContextFilter())
    logger.addHandler(handler)
    logger.propagate = False
