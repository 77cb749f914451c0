"""Every log line is JSON: the service's own and those of the libraries that log through the standard library."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
import structlog
import uvicorn.config

from shared.logging import configure_logging, correlation, get_logger


@pytest.fixture
def configured():
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    written = io.StringIO()
    # Another app in the process may have run uvicorn's own logging config (plain text, no propagation).
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    configure_logging("pathway", "INFO", io.StringIO())
    configure_logging("pathway", "INFO", written)  # again, as a second app in one process does: ours replaced
    try:
        yield lambda: [json.loads(line) for line in written.getvalue().splitlines() if line.strip()]
    finally:
        root.handlers[:], root.level = before_handlers, before_level
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


def test_library_lines_are_json_with_the_service_the_level_and_the_correlation_id(configured):
    with correlation("c-1", episode_id="e-1"):
        logging.getLogger("faust.transport.test_logging").warning("rebalance took %d s", 3)
        logging.getLogger("uvicorn.error").error("boom")
        get_logger("shared.test").info("relay.leading", topic="intake.events")
    faust, uvicorn, ours = configured()
    assert {k: faust[k] for k in ("event", "level", "logger", "service", "correlation_id", "episode_id")} == {
        "event": "rebalance took 3 s",
        "level": "warning",
        "logger": "faust.transport.test_logging",
        "service": "pathway",
        "correlation_id": "c-1",
        "episode_id": "e-1",
    }
    assert (uvicorn["event"], uvicorn["level"], uvicorn["logger"]) == ("boom", "error", "uvicorn.error")
    assert (ours["event"], ours["topic"], ours["service"], ours["correlation_id"]) == (
        "relay.leading",
        "intake.events",
        "pathway",
        "c-1",
    )
    assert "timestamp" in faust and "timestamp" in ours


def test_a_library_exception_is_one_json_line_with_its_traceback(configured):
    try:
        raise ValueError("bad record")
    except ValueError:
        logging.getLogger("mode.test_logging").exception("crashed")
    [line] = configured()
    assert line["event"] == "crashed" and "ValueError: bad record" in line["exception"]


def test_the_noisy_libraries_say_only_warnings(configured):
    logging.getLogger("kafka.test_logging").info("connecting")
    logging.getLogger("pathway.test_logging").info("kept")
    assert [line["event"] for line in configured()] == ["kept"]
