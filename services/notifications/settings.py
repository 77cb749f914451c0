"""Notifications settings, read from the environment."""

from pydantic import Field

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = 8004
    delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1, le=1000)
    dispatch_idle_seconds: float = Field(default=0.1, gt=0)
