"""The event contracts generated from the payload models: one JSON Schema per event type and version, and
an AsyncAPI 3 document for every topic. Both are checked in; a test fails when they are stale."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from shared.events import REGISTRY
from shared.events.envelope import Envelope
from shared.events.payload import EventPayload
from shared.events.topics import TOPICS, dead_letter_topic

CONTRACTS_DIR = Path(__file__).resolve().parent / "schemas"
ASYNCAPI_PATH = CONTRACTS_DIR / "asyncapi.yaml"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# What a message's Kafka key is (the relay keys each event by its stream, the CloudEvent subject).
_KEY = {
    True: "The pseudonymous episode id (CloudEvent subject).",
    False: "The stream id (CloudEvent subject) of a network-wide event, about no episode.",
}


def schema_file_name(model: type[EventPayload]) -> str:
    return f"{model.event_type}.v{model.event_version}.json"


def event_schema(model: type[EventPayload]) -> dict[str, Any]:
    """The whole CloudEvent of this type and version: envelope attributes plus the typed `data`."""
    envelope = Envelope.model_json_schema()
    payload = model.model_json_schema(ref_template="#/$defs/{model}")
    defs = payload.pop("$defs", {})
    defs[model.__name__] = payload
    properties = copy.deepcopy(envelope["properties"])
    properties["type"] = {"const": model.event_type, "title": "Type"}
    properties["dataversion"] = {"const": model.event_version, "title": "Dataversion"}
    properties["dataschema"] = {"const": model.schema_uri(), "title": "Dataschema"}
    properties["data"] = {"$ref": f"#/$defs/{model.__name__}"}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": model.schema_uri(),
        "title": model.event_type.rsplit(".", 1)[1],
        "description": (model.__doc__ or "").strip(),
        "type": "object",
        "properties": properties,
        "required": sorted(set(envelope.get("required", [])) | {"subject", "time", "dataschema"}),
        "additionalProperties": False,
        "$defs": defs,
    }


def _channel_id(topic: str) -> str:
    head, _, tail = topic.partition(".")
    return head + tail.replace("-", " ").title().replace(" ", "").replace(".", "")


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for spec in TOPICS.values():
        channel = _channel_id(spec.name)
        models = REGISTRY.types_on(spec.name)
        channel_messages = {}
        for model in models:
            name = model.event_type.rsplit(".", 1)[1]
            schemas[name] = {"$ref": f"./{schema_file_name(model)}"}
            messages[name] = {
                "name": model.event_type,
                "title": name,
                "summary": (model.__doc__ or "").strip().split("\n")[0],
                "contentType": "application/cloudevents+json",
                "payload": {"$ref": f"#/components/schemas/{name}"},
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": _KEY[model.about_episode]},
                        "bindingVersion": "0.5.0",
                    }
                },
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel] = {
            "address": spec.name,
            "description": spec.description,
            "messages": channel_messages,
        }
        refs = [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in channel_messages]
        operations[f"{spec.producer}Publishes{channel[0].upper()}{channel[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"The {spec.producer} relay publishes its event log, keyed by episode.",
            "messages": refs,
        }
        for consumer in spec.consumers:
            operations[f"{consumer}Consumes{channel[0].upper()}{channel[1:]}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"{consumer} consumes as consumer group `{consumer}` (idempotent, inbox-deduplicated).",
                "messages": refs,
            }
    for consumer in sorted({c for spec in TOPICS.values() for c in spec.consumers}):
        channel = _channel_id(dead_letter_topic(consumer))
        channels[channel] = {
            "address": dead_letter_topic(consumer),
            "description": f"Records {consumer} could not handle: the original key and value, with headers "
            "dlq.reason, dlq.error, dlq.attempts and dlq.original.topic/partition/offset.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        }
        operations[f"{consumer}DeadLetters"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/DeadLetter"}],
        }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "The original record, unchanged, with the reason in headers.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                h: {"type": "string"}
                for h in (
                    "dlq.consumer",
                    "dlq.reason",
                    "dlq.error",
                    "dlq.attempts",
                    "dlq.original.topic",
                    "dlq.original.partition",
                    "dlq.original.offset",
                )
            },
        },
        "payload": {"type": "string", "format": "binary"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Ruggengraat events",
            "version": "1.0.0",
            "description": "Every topic of the low-back-pain care pathway. Events are CloudEvents 1.0 in "
            "structured JSON mode; the subject is a pseudonymous episode id and the Kafka key. While traces are on, "
            "each event carries the CloudEvents distributed-tracing extension `traceparent` (W3C Trace Context) of "
            "the work that recorded it.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "tansu via ./ruggengraat"},
            "compose": {"host": "kafka:9092", "protocol": "kafka", "description": "Apache Kafka in compose"},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def rendered_contracts() -> dict[Path, str]:
    files = {
        CONTRACTS_DIR / schema_file_name(model): json.dumps(event_schema(model), indent=2, sort_keys=True) + "\n"
        for model in REGISTRY.models()
    }
    files[ASYNCAPI_PATH] = yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True, width=110)
    return files


def write_contracts() -> list[Path]:
    CONTRACTS_DIR.mkdir(parents=True, exist_ok=True)
    files = rendered_contracts()
    for stale in set(CONTRACTS_DIR.glob("*.json")) - set(files):
        stale.unlink()
    for path, text in files.items():
        path.write_text(text)
    return sorted(files)


def stale_files() -> list[str]:
    """Files that differ from what the models generate, are missing, or no longer belong."""
    files = rendered_contracts()
    stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
    stale += [p.name for p in CONTRACTS_DIR.glob("*.json") if p not in files]
    return sorted(stale)
