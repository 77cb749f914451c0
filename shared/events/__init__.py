"""Events: the CloudEvents envelope, payload models per producing service, and their registry."""

from shared.events import intake, pathway, reporting
from shared.events.envelope import Envelope, new_envelope
from shared.events.payload import EventPayload
from shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType

REGISTRY = EventRegistry()
for _module in (intake, pathway, reporting):
    for _name in dir(_module):
        _obj = getattr(_module, _name)
        if isinstance(_obj, type) and issubclass(_obj, EventPayload) and "event_type" in _obj.__dict__:
            REGISTRY.register(_obj)

__all__ = [
    "REGISTRY",
    "Envelope",
    "EventPayload",
    "EventRegistry",
    "InvalidEventData",
    "UnknownEventType",
    "new_envelope",
]
