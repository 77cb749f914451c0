"""Pathway settings, read from the environment."""

from datetime import timedelta

from pydantic import Field

from shared.settings import ServiceSettings


class PathwaySettings(ServiceSettings):
    service_name: str = "pathway"
    # On the path of every decision (AssessmentCompleted → BeloopClassified): gather briefly. Measured at a
    # steady 100 episodes/s: median 86 → 70 ms against the shared 50 ms, at the cost of smaller batches.
    consumer_batch_wait_ms: int = 20
    http_port: int = 8002
    timer_poll_interval_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="How long the timer scheduler waits when nothing was due."
    )
    timer_batch_size: int = Field(default=100, ge=1, le=10_000, description="Due timers claimed per transaction.")
    evaluation_overdue_grace_days: float = Field(
        default=7, ge=0, description="Days after an evaluation fell due before an unrecorded one is overdue."
    )

    @property
    def evaluation_overdue_grace(self) -> timedelta:
        return timedelta(days=self.evaluation_overdue_grace_days)
