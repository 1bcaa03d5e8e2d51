"""Helpers for the catalog tests: servable documents with known text, registered the way the worker does."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from dlhub_manifest.registry.records import Tx, open_records


def document(name: str, *, title: str = "", description: str = "", creators: tuple[str, ...] = (),
             keywords: tuple[str, ...] = (), visible_to: list[str] | None = None) -> dict[str, Any]:
    """A servable document holding only what list and search read."""
    dlhub: dict[str, Any] = {"name": name, **({"visible_to": visible_to} if visible_to else {})}
    return {"dlhub": dlhub, "datacite": {
        "titles": [{"title": title}], "descriptions": [{"description": description, "descriptionType": "Abstract"}],
        "creators": [{"creatorName": c} for c in creators], "subjects": [{"subject": k} for k in keywords]}}


def register(root: Path, owner: str, version: str, doc: dict[str, Any], database: str | None = None) -> None:
    """Register a version as the worker does (insert_version inside one write transaction), in the folder's
    SQLite file or in the PostgreSQL `database`."""
    def write(tx: Tx) -> None:
        servable = tx.ensure_servable(owner, doc["dlhub"]["name"], str(uuid.uuid4()), time.time())
        tx.insert_version({"servable_id": servable["id"], "version": version, "document": json.dumps(doc),
                           "content_digest": uuid.uuid4().hex, "provenance": "{}", "search_text": "",
                           "created_at": time.time(), "task_id": uuid.uuid4().hex}, [])

    records = open_records(root, database)
    try:
        records.write(write)
    finally:
        records.close()


def names(items: list[dict[str, Any]]) -> list[str]:
    """OWNER/NAME of each summary, in order."""
    return [i["servable"] for i in items]
