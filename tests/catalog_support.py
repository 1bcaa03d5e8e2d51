"""Helpers for the catalog tests: servable documents with known text, registered the way the worker does."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from dlhub_manifest.registry import store as q


def document(name: str, *, title: str = "", description: str = "", creators: tuple[str, ...] = (),
             keywords: tuple[str, ...] = (), visible_to: list[str] | None = None) -> dict[str, Any]:
    """A servable document holding only what list and search read."""
    dlhub: dict[str, Any] = {"name": name, **({"visible_to": visible_to} if visible_to else {})}
    return {"dlhub": dlhub, "datacite": {
        "titles": [{"title": title}], "descriptions": [{"description": description, "descriptionType": "Abstract"}],
        "creators": [{"creatorName": c} for c in creators], "subjects": [{"subject": k} for k in keywords]}}


def register(root: Path, owner: str, version: str, doc: dict[str, Any]) -> None:
    """Register a version as the worker does (store.insert_version inside one write transaction)."""
    def write(conn: sqlite3.Connection) -> None:
        servable = q.ensure_servable(conn, owner, doc["dlhub"]["name"], str(uuid.uuid4()), time.time())
        q.insert_version(conn, {"servable_id": servable["id"], "version": version, "document": json.dumps(doc),
                                "content_digest": uuid.uuid4().hex, "provenance": "{}", "search_text": "",
                                "created_at": time.time(), "task_id": uuid.uuid4().hex}, [])

    store = q.Store(root)
    try:
        store.write(write)
    finally:
        store.close()


def names(items: list[dict[str, Any]]) -> list[str]:
    """OWNER/NAME of each summary, in order."""
    return [i["servable"] for i in items]
