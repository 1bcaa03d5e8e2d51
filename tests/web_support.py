"""A registry for the web page tests: real built documents, several versions, a private servable, and a
hostile-manifest corpus whose every text field tries to run script."""

from __future__ import annotations

import copy
import hashlib
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from dlhub_manifest.build import build
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.document import content_digest, fill_registry_fields, search_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "tests" / "examples" / "valid" / "full-static" / "dlhub.yaml"
BOB_ID = "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-000000000002"
ATTACKS = [
    "<script>alert('title')</script>",
    "\"><img src=x onerror=alert('img')>",
    "<svg onload=alert('svg')></svg>",
    "javascript:alert('js')",
    "</textarea><iframe src=javascript:alert('frame')></iframe>",
]
HOSTILE_MARKDOWN = """# Heading <script>alert('md')</script>

[click me](javascript:alert('link')) and [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<a href="javascript:alert('raw')">raw link</a> <img src=x onerror=alert('raw-img')>
<div onclick="alert('div')">raw html block</div>

![pic](javascript:alert('image')) <javascript:alert('autolink')> [ok](https://example.org/ok)
"""


def base_document() -> dict[str, Any]:
    """The full static-method example, built without inspection (title "Scale a vector", two methods)."""
    return build(EXAMPLE, inspect=False)


def register(root: Path, owner: str, version: str, document: dict[str, Any], *,
             files: dict[str, bytes] | None = None, provenance: dict[str, Any] | None = None) -> None:
    """Register a version the way the worker does: registry fields filled, file index, catalog rows."""
    index = [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "mode": 0o644}
             for p, b in sorted((files or {}).items())]

    def write(conn: sqlite3.Connection) -> None:
        now = time.time()
        servable = q.ensure_servable(conn, owner, document["dlhub"]["name"], str(uuid.uuid4()), now)
        doc = fill_registry_fields(document, owner=owner, uuid=servable["uuid"], version=version, now=now)
        q.insert_version(conn, {"servable_id": servable["id"], "version": version, "document": q.dumps(doc),
                                "content_digest": content_digest(document, index),
                                "provenance": q.dumps(provenance or {"tool": "dlhub-manifest test"}),
                                "search_text": search_text(doc, owner), "created_at": now,
                                "task_id": uuid.uuid4().hex}, index)

    store = q.Store(root)
    try:
        store.write(write)
    finally:
        store.close()


def variant(name: str, title: str, *, servable_type: str | None = None, keywords: tuple[str, ...] = (),
            domains: tuple[str, ...] = (), visible_to: list[str] | None = None) -> dict[str, Any]:
    """The example under another name and title (and optionally type, keywords, domains, visibility)."""
    doc = copy.deepcopy(base_document())
    doc["dlhub"]["name"] = name
    doc["datacite"]["titles"] = [{"title": title}]
    if servable_type:
        doc["servable"]["type"] = servable_type
    if keywords:
        doc["datacite"]["subjects"] = [{"subject": k} for k in keywords]
    if domains:
        doc["dlhub"]["domains"] = list(domains)
    if visible_to:
        doc["dlhub"]["visible_to"] = visible_to
    return doc


def hostile_document() -> dict[str, Any]:
    """Every field a page shows, filled with attempts to run script."""
    doc = copy.deepcopy(base_document())
    attack = " ".join(ATTACKS)
    doc["dlhub"]["name"] = "hostile"
    doc["dlhub"]["domains"] = ATTACKS
    doc["datacite"]["titles"] = [{"title": attack}]
    doc["datacite"]["descriptions"] = [{"description": HOSTILE_MARKDOWN, "descriptionType": "Abstract"}]
    doc["datacite"]["creators"] = [{"familyName": a, "givenName": a, "affiliations": [a], "nameIdentifiers": [
        {"nameIdentifier": "javascript:alert('orcid')", "nameIdentifierScheme": "ORCID"}]} for a in ATTACKS]
    doc["datacite"]["subjects"] = [{"subject": a} for a in ATTACKS]
    doc["datacite"]["rightsList"] = [{"rights": attack}]
    doc["datacite"]["relatedIdentifiers"] = [
        {"relatedIdentifier": "javascript:alert('related')", "relatedIdentifierType": "URL", "relationType": a}
        for a in ATTACKS]
    doc["servable"]["type"] = ATTACKS[1]
    doc["servable"]["methods"] = {a: {"description": a, "input": {"type": a, "description": a},
                                      "output": {"type": a, "shape": [a]}, "parameters": {a: a}}
                                  for a in ATTACKS}
    doc["dlhub"]["dependencies"] = {"python": {a: a for a in ATTACKS}}
    return doc


HOSTILE_PROVENANCE = {"repository": "javascript:alert('repo')", "commit": "<script>alert('commit')</script>",
                      "ref": ATTACKS[1], "tool": ATTACKS[0]}
HOSTILE_FILES = {a.replace("/", "|"): a.encode() for a in ATTACKS}


def fill(root: Path) -> None:
    """The shared corpus: alice/scaler in three versions, a few more public ones, bob's private model, and
    mallory/hostile (two versions, so its diff page has hostile text on both sides)."""
    first = base_document()
    register(root, "alice", "1.0.0", first, files={"mypkg/model.py": b"def run(x):\n    return x\n"},
             provenance={"repository": "https://github.com/alice/scaler.git", "commit": "a" * 40, "ref": "v1.0.0",
                         "tool": "dlhub-manifest 0.1.0"})
    second = copy.deepcopy(first)
    second["datacite"]["descriptions"] = [{"description": "Multiplies **every** element.",
                                           "descriptionType": "Abstract"}]
    register(root, "alice", "1.1.0", second, files={"mypkg/model.py": b"def run(x):\n    return 2 * x\n",
                                                    "README.md": b"# scaler\n"})
    third = copy.deepcopy(second)
    third["servable"]["methods"]["triple"] = {"input": {"type": "list"}, "output": {"type": "list"},
                                              "parameters": {"factor": 3}}
    register(root, "alice", "2.0.0", third, files={"mypkg/model.py": b"def run(x):\n    return 3 * x\n"})
    register(root, "carol", "0.1.0", variant("band-gap", "Band gap regressor", servable_type="Scikit-learn estimator",
                                             keywords=("band gap", "crystals"), domains=("chemistry",)))
    register(root, "carol", "0.2.0", variant("alloys", "Alloy strength", servable_type="Torch Model",
                                             keywords=("alloys",), domains=("materials science",)))
    register(root, "bob", "1.0.0", variant("secret", "Secret band model", visible_to=[BOB_ID]))
    hostile = hostile_document()
    register(root, "mallory", "1.0.0", hostile, files=HOSTILE_FILES, provenance=HOSTILE_PROVENANCE)
    later = copy.deepcopy(hostile)
    later["datacite"]["titles"] = [{"title": ATTACKS[2] + " v2"}]
    register(root, "mallory", "1.1.0", later, files={**HOSTILE_FILES, ATTACKS[4].replace("/", "|"): b"new"},
             provenance=HOSTILE_PROVENANCE)


PUBLIC_PAGES = ["/", "/?q=band", "/?q=" + "%3Cscript%3E", "/s/alice/scaler_v2.0", "/s/alice/scaler_v2.0@1.0.0",
                "/s/alice/scaler_v2.0/diff", "/u/alice", "/signin", "/s/mallory/hostile",
                "/s/mallory/hostile@1.0.0", "/s/mallory/hostile/diff", "/u/mallory", "/?owner=mallory",
                "/s/nobody/nothing"]
