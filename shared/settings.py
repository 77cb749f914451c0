"""Settings every service reads from the environment; each service subclasses them with its defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import DEVELOPMENT_SECRET
from shared.clock import Clock, OffsetFileClock, SystemClock


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "ruggengraat"
    environment: Literal["development", "production"] = Field(default="development", validation_alias="RUGGENGRAAT_ENV")
    database_url: str | None = None
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = Field(
        default="", description="Prefix for every topic and consumer group; lets test runs share a broker."
    )
    kafka_topic_partitions: int = Field(default=6, ge=1, le=256)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    clock_offset_file: Path | None = Field(
        default=None, description="Development only: a file holding seconds to add to real time."
    )
    relay_batch_size: int = Field(default=1000, ge=1, le=10000)
    relay_idle_sleep_seconds: float = Field(
        default=0.01, gt=0, description="How soon an idle relay looks for new events again (bounds its latency)."
    )
    relay_reset_check_seconds: float = Field(default=2.0, gt=0)
    consumer_max_attempts: int = Field(default=3, ge=1, le=100)
    loop_stall_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A loop with work and no progress this long (no dependency away meanwhile) fails /health.",
    )
    # tansu answers a fetch only when this wait runs out, and each fetch costs it ~1.6 ms of CPU: measured idle,
    # the whole system takes 43 % of a core at 25 ms, 23 % at 100 ms, 16 % at 1500 ms (faust's own value,
    # which adds up to 1.5 s per consumer hop). 50 ms bounds the hop and keeps the polling affordable.
    consumer_fetch_max_wait_ms: int = Field(
        default=50, ge=1, le=1500, description="How long a fetch may wait for records (tansu always waits this long)."
    )
    # Gathering longer gives bigger batches and fewer wake-ups, at the cost of latency. Measured with the
    # episode-flow benchmark, every consumer alike: 10 ms → 87 episodes/s for a minute, 50 ms → 128, 100 ms →
    # 111. Each service sets its own, short: a batch is a transaction, and the relays of every service wait
    # for the oldest transaction still running (see the event store's read_all).
    consumer_batch_wait_ms: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="How long a consumer gathers records before handling them as one batch (at most 200).",
    )
    peer_urls: dict[str, str] = Field(
        default_factory=dict,
        description='The other services by name, e.g. {"intake": "http://intake:8001"} (PEER_URLS, JSON).',
    )
    trusted_proxies: str | None = Field(
        default=None, description="Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated)."
    )
    jwt_secret: str = Field(default=DEVELOPMENT_SECRET, min_length=32, description="HS256 key for caller tokens.")

    @model_validator(mode="after")
    def _production_is_strict(self) -> ServiceSettings:
        if self.environment == "production":
            if self.clock_offset_file is not None:
                raise ValueError("clock_offset_file: a moved clock is not allowed in production")
            if not self.database_url:
                raise ValueError("database_url: DATABASE_URL must be set in production")
            if self.jwt_secret == DEVELOPMENT_SECRET:
                raise ValueError("jwt_secret: production refuses the development secret; set JWT_SECRET")
        return self

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "DATABASE_URL is not set. Start the system with `./ruggengraat up` (it starts an embedded "
                "PostgreSQL) or point DATABASE_URL at a PostgreSQL server."
            )
        return self.database_url

    def clock(self) -> Clock:
        if self.clock_offset_file is not None:
            return OffsetFileClock(self.clock_offset_file)
        return SystemClock()

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"
