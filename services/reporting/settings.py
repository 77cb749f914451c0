"""Reporting settings, read from the environment."""

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    # Not on the path of the pathway's decisions, but its transactions may be: the relays publish only what
    # committed before the oldest transaction still running. Measured at a steady 100 episodes/s: 100 ms
    # batches (with notifications alike) → relay-to-broker p50 31 ms, p99 279 ms end to end; 30 ms → 21 ms and
    # 250 ms, for the same CPU. (A relay that left other services' transactions out did not measure faster,
    # so how much of this is that wait is not settled.)
    consumer_batch_wait_ms: int = 30
    http_port: int = 8003
