"""Pathway settings, read from the environment."""

from shared.settings import ServiceSettings


class PathwaySettings(ServiceSettings):
    service_name: str = "pathway"
    http_port: int = 8002
