"""The public contract for upstream publishers, generated from the models: JSON Schemas and AsyncAPI.

`aiff events export` writes them into the top-level `events/` folder; `aiff events check` (and a unit test)
fails when the committed files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiff import __version__
from aiff.events.envelope import CONTENT_TYPE
from aiff.events.registry import EVENT_CLASSES

KEYS = {"tickets": "ticket id (decimal string)", "teams": "team id, or `zone:<name>` for zone settings", "requests": "request id"}
TOPIC_DOCS = {
    "tickets": "Facts about tickets. Key: the ticket id, so one ticket's events stay in order on one partition.",
    "teams": "Facts about teams and zone settings. Key: the team id (or `zone:<name>`).",
    "requests": "Requests for the assignment engine (auto-assign runs). Key: the request id.",
}


def _schema_name(event_type: str) -> str:
    return f"{event_type}.schema.json"


def build() -> dict[str, dict[str, Any]]:
    """Every generated document, by relative path."""
    docs: dict[str, dict[str, Any]] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for cls in EVENT_CLASSES:
        event_type = cls.event_type()
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:aiff:schema:{event_type}"
        schema["title"] = event_type
        schema["description"] = (cls.__doc__ or "").strip() or f"CloudEvent of type {event_type}."
        docs[f"schemas/{_schema_name(event_type)}"] = schema
        name = cls.__name__
        messages[name] = {
            "name": event_type,
            "title": name,
            "contentType": CONTENT_TYPE,
            "payload": {"$ref": f"./schemas/{_schema_name(event_type)}"},
            "headers": {
                "type": "object",
                "properties": {
                    "content-type": {"type": "string", "const": CONTENT_TYPE},
                    "ce_type": {"type": "string", "const": event_type, "description": "Optional copy of `type`."},
                    "correlation_id": {"type": "string", "description": "Optional; copy of `correlationid`."},
                },
            },
            "bindings": {"kafka": {"key": {"type": "string", "description": KEYS[cls.topic_kind]}}},
        }
        channel = channels.setdefault(
            cls.topic_kind,
            {"address": f"{{prefix}}.{cls.topic_kind}", "description": TOPIC_DOCS[cls.topic_kind], "messages": {},
             "parameters": {"prefix": {"default": "aiff", "description": "AIFF_TOPIC_PREFIX"}}},
        )  # fmt: skip
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for kind, channel in channels.items():
        operations[f"publish_{kind}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{kind}"},
            "summary": f"Publish to the {kind} topic (structured-mode CloudEvents JSON, acks=all recommended).",
            "messages": [{"$ref": f"#/channels/{kind}/messages/{m}"} for m in channel["messages"]],
        }
    channels["dead-letters"] = {
        "address": "{prefix}.dead-letters",
        "description": "Records the projector refused, unchanged, with headers dlq_reason, dlq_error_code, "
        "dlq_consumer, dlq_topic, dlq_partition, dlq_offset, dlq_time. A record too large to fit one message with "
        "these headers is stored truncated (dlq_truncated, dlq_original_bytes); dlq_topic/partition/offset point at "
        "the original.",
        "parameters": {"prefix": {"default": "aiff"}},
    }
    docs["asyncapi.json"] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "AIFF event contract",
            "version": __version__,
            "description": "Events are CloudEvents 1.0 in structured mode: the Kafka value is the whole JSON event "
            "(`specversion`, `id`, `source`, `type`, `time`, `subject`, `data`, optional `correlationid` and "
            "`causationid`). Types are versioned past-tense facts; additive changes keep the version, breaking "
            "ones add a new one. Readers ignore unknown fields. An event id delivered twice has one effect.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka", "description": "deploy/stack.sh"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    return docs


def _render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def export(out_dir: str | Path) -> list[Path]:
    """Write every document under `out_dir` (stale schema files are removed)."""
    out = Path(out_dir)
    docs = build()
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    for stale in (out / "schemas").glob("*.json"):
        if f"schemas/{stale.name}" not in docs:
            stale.unlink()
    written = []
    for rel, doc in docs.items():
        path = out / rel
        path.write_text(_render(doc))
        written.append(path)
    return written


def check(out_dir: str | Path) -> list[str]:
    """Paths whose committed content differs from the models (empty when in sync)."""
    out = Path(out_dir)
    docs = build()
    drift = [rel for rel, doc in docs.items() if not (out / rel).exists() or (out / rel).read_text() != _render(doc)]
    extra = [f"schemas/{p.name}" for p in (out / "schemas").glob("*.json") if f"schemas/{p.name}" not in docs]
    return drift + [f"{e} (no longer a model)" for e in extra]
