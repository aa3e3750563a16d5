"""Structured one-line JSON logs carrying each request's correlation id.

Only paths are logged, never query strings, form bodies, tokens or id_tokens.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from flask import g, has_request_context

_handler: logging.Handler | None = None
# RQ colours parts of its messages when stdout is a terminal.
_TERMINAL_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": _TERMINAL_COLOURS.sub("", record.getMessage()),
        }
        if has_request_context():
            entry["correlation_id"] = getattr(g, "correlation_id", None)
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, *others: str) -> None:
    """Send the ``lti_tool`` logger, and the libraries' loggers named in ``others`` (RQ's
    ``rq`` in ``lti-tool worker``), to one JSON handler on stderr, at ``level``; the handler
    is installed once per process."""
    global _handler
    if _handler is None:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(JsonFormatter())
    for name in ("lti_tool", *others):
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        logger.propagate = False


def request_correlation_id() -> str | None:
    """The correlation id of the request being served; None outside a request (a job)."""
    return getattr(g, "correlation_id", None) if has_request_context() else None


def log_event(logger: logging.Logger, level: int, msg: str, **fields: Any) -> None:
    logger.log(level, msg, extra={"fields": fields})
