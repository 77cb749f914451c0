"""The registry mapping an event `type` and data version to its payload model, with upcasters."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.events.envelope import Envelope
from shared.events.payload import EventPayload

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    def __init__(self, type_: str, version: int) -> None:
        super().__init__(f"type: no payload model is registered for {type_!r} version {version}")
        self.type = type_
        self.version = version


class InvalidEventData(ValueError):
    """The data of a known type does not validate against its model; names the failing fields."""

    def __init__(self, type_: str, error: ValidationError) -> None:
        fields = "; ".join(f"data.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        super().__init__(f"{type_}: {fields}")
        self.type = type_


@dataclass
class EventRegistry:
    _models: dict[str, type[EventPayload]] = field(default_factory=dict)
    _upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)

    def register(self, model: type[EventPayload]) -> type[EventPayload]:
        existing = self._models.get(model.event_type)
        if existing is not None and existing is not model:
            raise ValueError(f"{model.event_type} is registered twice ({existing.__name__}, {model.__name__})")
        self._models[model.event_type] = model
        return model

    def upcaster(self, type_: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning data of `from_version` into data of `from_version + 1`."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_, from_version)] = fn
            return fn

        return decorate

    def model_for(self, type_: str) -> type[EventPayload]:
        model = self._models.get(type_)
        if model is None:
            raise UnknownEventType(type_, 0)
        return model

    def models(self) -> Iterable[type[EventPayload]]:
        return sorted(self._models.values(), key=lambda m: m.event_type)

    def subscribable(self) -> list[type[EventPayload]]:
        """The types a subscriber can subscribe to: every type about an episode (a subscriber's scope is a set of
        episodes; a network-wide event such as a protocol adopted is in no scope), sorted by type."""
        return [m for m in self.models() if m.about_episode]

    def types_on(self, topic: str) -> list[type[EventPayload]]:
        return [m for m in self.models() if m.topic == topic]

    def upcast(self, type_: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
        model = self.model_for(type_)
        if version > model.event_version:
            raise UnknownEventType(type_, version)
        while version < model.event_version:
            step = self._upcasters.get((type_, version))
            if step is None:
                raise UnknownEventType(type_, version)
            data = step(data)
            version += 1
        return data

    def decode(self, envelope: Envelope) -> EventPayload:
        """The payload as the current model version, upcast from an older stored version if needed."""
        model = self.model_for(envelope.type)
        data = self.upcast(envelope.type, envelope.dataversion, envelope.data)
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise InvalidEventData(envelope.type, error) from error

    def decode_json(self, type_: str, version: int, raw: str | bytes) -> EventPayload:
        """Fast path for replay: validate stored JSON straight into the model when no upcast is needed."""
        model = self.model_for(type_)
        if version == model.event_version:
            try:
                return model.model_validate_json(raw)
            except ValidationError as error:
                raise InvalidEventData(type_, error) from error
        try:
            return model.model_validate(self.upcast(type_, version, json.loads(raw)))
        except ValidationError as error:
            raise InvalidEventData(type_, error) from error
