"""Structured JSON logs with the correlation id of the event or request being handled."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    # Library chatter (kafka-python connection lines, faust start-up) drowns what matters.
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)  # structlog types it as Any
    return logger


@contextmanager
def correlation(correlation_id: str, **ids: str) -> Iterator[None]:
    """Bind a correlation id (and other non-personal ids) to every log line inside the block."""
    tokens = structlog.contextvars.bind_contextvars(correlation_id=correlation_id, **ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
