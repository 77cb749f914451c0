"""Structured JSON logs with the correlation id of the event or request being handled."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import structlog

from shared.tracing import add_trace_ids

_HANDLER = "ruggengraat-json"


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Every line JSON, with the service, level, time, the correlation id bound where one is handled and the
    trace and span ids while a span is current: the
    service's own (structlog) and those of the libraries that log through the standard library (faust, mode,
    aiokafka, kafka-python, uvicorn, asyncpg), which structlog's ProcessorFormatter renders the same way."""
    stamped: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,  # the current span's ids, when traces are on (shared.tracing)
    ]
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*stamped, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    # Ours replaces ours only (configured again in one process): a test runner's capturing handlers stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER] + [handler]
    root.setLevel(level.upper())
    # Library chatter (kafka-python connection lines, faust start-up) drowns what matters.
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's own dictConfig (if anything in the process ran it) gives its loggers plain-text handlers that
    # stop propagation; its lines go through ours instead.
    for library in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library_logger = logging.getLogger(library)
        library_logger.handlers.clear()
        library_logger.propagate = True
        library_logger.disabled = False
    structlog.configure(
        processors=[*stamped, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
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
