"""The public contract for upstream publishers, generated from the models: JSON Schemas, and AsyncAPI by FastStream.

`aiff events export` writes them into the top-level `events/` folder; `aiff events check` (and a unit test)
fails when the committed files drift from the models. The AsyncAPI document comes from `aiff.events.docs`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiff.events.docs import app, event_description
from aiff.events.registry import EVENT_CLASSES


def _schema_name(event_type: str) -> str:
    return f"{event_type}.schema.json"


def build() -> dict[str, dict[str, Any]]:
    """Every generated document, by relative path: a JSON Schema per event type, and FastStream's AsyncAPI."""
    docs: dict[str, dict[str, Any]] = {}
    for cls in EVENT_CLASSES:
        event_type = cls.event_type()
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:aiff:schema:{event_type}"
        schema["title"] = event_type
        schema["description"] = event_description(cls)
        docs[f"schemas/{_schema_name(event_type)}"] = schema
    docs["asyncapi.json"] = app.schema.to_specification().to_jsonable()
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
