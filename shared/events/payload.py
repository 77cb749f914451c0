"""The base of every event payload: an immutable, versioned Pydantic model with a language-neutral type."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "nl.ruggengraat"


class EventPayload(BaseModel):
    """An event's data. Subclasses set `event_type` (stable, language-neutral) and `event_version`.

    The type string never carries the Python class path, so a class can move or be renamed without
    breaking a single stored event or subscriber.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    #: The topic this type travels on; set once per producing service module.
    topic: ClassVar[str]
    #: Whether the event's subject is an episode (almost all are); False for a network-wide event such as the
    #: network adopting a protocol, which no subscriber's scope of episodes takes in.
    about_episode: ClassVar[bool] = True

    @classmethod
    def schema_uri(cls) -> str:
        return schema_uri(cls.event_type, cls.event_version)


def event_type(service: str, name: str) -> str:
    return f"{TYPE_PREFIX}.{service}.{name}"


def schema_uri(type_: str, version: int) -> str:
    return f"urn:ruggengraat:schema:{type_}:v{version}"
