"""The CloudEvents 1.0 envelope every event travels in, with our extension attributes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.payload import EventPayload

SOURCE_PREFIX = "/ruggengraat/"
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")  # W3C Trace Context


class Envelope(BaseModel):
    """A CloudEvent in structured JSON mode.

    Required context attributes: `id`, `source`, `type`, `specversion`; we also always set `time`,
    `subject` (the pseudonymous episode id — never a name or a BSN), `datacontenttype` and
    `dataschema`. Extension attributes (lower-case alphanumerics as the spec demands): `streamversion`,
    `dataversion`, `correlationid`, `causationid`, `guidelineversion`, `protocolversion` (the network protocol a
    pathway decision was made under, beside the guideline version), and `traceparent` (the CloudEvents
    distributed-tracing extension: the W3C trace context of the work that recorded the event, set while traces
    are on; a malformed one is ignored, as W3C Trace Context asks, rather than costing the event).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    source: str
    type: str
    specversion: Literal["1.0"] = "1.0"
    time: datetime
    subject: str = Field(min_length=1, max_length=200)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    streamversion: int = Field(ge=1)
    dataversion: int = Field(ge=1)
    correlationid: uuid.UUID
    causationid: uuid.UUID | None = None
    guidelineversion: str | None = None
    protocolversion: str | None = None
    traceparent: str | None = Field(default=None, json_schema_extra={"pattern": TRACEPARENT.pattern})
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone")
        return value

    @field_validator("traceparent", mode="before")
    @classmethod
    def _trace_context(cls, value: object) -> object:
        return value if isinstance(value, str) and TRACEPARENT.match(value) else None

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)

    def extensions(self) -> dict[str, Any]:
        return extension_attributes(
            self.streamversion,
            self.dataversion,
            self.correlationid,
            self.causationid,
            self.guidelineversion,
            self.protocolversion,
            self.traceparent,
        )


def extension_attributes(
    stream_version: int,
    data_version: int,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
    guideline_version: str | None,
    protocol_version: str | None,
    traceparent: str | None,
) -> dict[str, Any]:
    """The CloudEvent extension attributes of an event, in this order; an optional one only when it has a value."""
    ext: dict[str, Any] = {
        "streamversion": stream_version,
        "dataversion": data_version,
        "correlationid": str(correlation_id),
    }
    if causation_id is not None:
        ext["causationid"] = str(causation_id)
    if guideline_version is not None:
        ext["guidelineversion"] = guideline_version
    if protocol_version is not None:
        ext["protocolversion"] = protocol_version
    if traceparent is not None:
        ext["traceparent"] = traceparent
    return ext


def source_for(service: str) -> str:
    return f"{SOURCE_PREFIX}{service}"


def new_envelope(
    payload: EventPayload,
    *,
    service: str,
    subject: str,
    stream_version: int,
    time: datetime,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None = None,
    guideline_version: str | None = None,
    event_id: uuid.UUID | None = None,
    traceparent: str | None = None,
    protocol_version: str | None = None,
) -> Envelope:
    return Envelope(
        id=event_id or uuid.uuid4(),
        source=source_for(service),
        type=payload.event_type,
        time=time,
        subject=subject,
        dataschema=payload.schema_uri(),
        streamversion=stream_version,
        dataversion=payload.event_version,
        correlationid=correlation_id,
        causationid=causation_id,
        guidelineversion=guideline_version,
        traceparent=traceparent,
        protocolversion=protocol_version,
        data=json.loads(payload.model_dump_json()),
    )
