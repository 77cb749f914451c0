"""Reporting settings, read from the environment."""

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    # Letters and the network's figures are not waited for: gather longer, for bigger batches (measured 43 →
    # 77 events per batch at a steady 100 episodes/s), which leaves the CPU to the pathway's decisions.
    consumer_batch_wait_ms: int = 100
    http_port: int = 8003
