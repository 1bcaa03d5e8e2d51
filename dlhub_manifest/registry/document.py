"""The registry's view of a servable document: the fields it fills, the content digest, the search text.

The content digest covers what users get (the document and the file index) and ignores what the registry or
the moment fills in (version, owner, id, publication date and year) and the provenance block, so publishing
the same content again is recognised whatever commit or tool version it came from.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

# (block, field) pairs the registry fills or that describe the publication rather than the content.
REGISTRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("dlhub", "version"), ("dlhub", "owner"), ("dlhub", "id"), ("dlhub", "publication_date"),
    ("datacite", "version"), ("datacite", "publicationYear"),
)
UNHASHED_BLOCKS = ("provenance",)


def content_view(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` without registry-filled fields and provenance (what the digest and diffs compare)."""
    view = {k: copy.deepcopy(v) for k, v in document.items() if k not in UNHASHED_BLOCKS}
    for block, key in REGISTRY_FIELDS:
        if isinstance(view.get(block), dict):
            view[block].pop(key, None)
    return view


def content_digest(document: dict[str, Any], files: Iterable[Mapping[str, Any]]) -> str:
    """sha256 over the canonical content view of the document plus the sorted file index."""
    index = sorted([f["path"], f["sha256"], f["size"], f["mode"]] for f in files)
    canonical = json.dumps({"document": content_view(document), "files": index}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fill_registry_fields(document: dict[str, Any], *, owner: str, uuid: str, version: str,
                         now: float) -> dict[str, Any]:
    """A copy of `document` with the fields the registry assigns at registration."""
    doc = copy.deepcopy(document)
    dlhub = doc.setdefault("dlhub", {})
    dlhub.update(owner=owner, id=uuid, version=version, publication_date=int(now))
    datacite = doc.get("datacite")
    if isinstance(datacite, dict):
        datacite["version"] = version
        if not datacite.get("publicationYear"):
            import datetime

            datacite["publicationYear"] = str(datetime.datetime.fromtimestamp(now, datetime.timezone.utc).year)
    return doc


def search_text(document: dict[str, Any], owner: str) -> str:
    """Lower-cased text that `search` matches: name, title, description, creators, keywords, domains, DOIs."""
    return "\n".join(line for lines in search_fields(document, owner).values() for line in lines).lower()


def search_fields(document: dict[str, Any], owner: str) -> dict[str, list[str]]:
    """The searchable text by field, not lower-cased (the catalog ranks a match by the field it is in)."""
    dlhub, datacite = block(document, "dlhub"), block(document, "datacite")
    identifier = datacite.get("identifier")
    return {
        "name": [f"{owner}/{dlhub.get('name', '')}"],
        "title": [str(t.get("title", "")) for t in _items(datacite, "titles")],
        "description": [str(d.get("description", "")) for d in _items(datacite, "descriptions")],
        "creators": [" ".join(str(c.get(k, "")) for k in ("creatorName", "familyName", "givenName"))
                     for c in _items(datacite, "creators")],
        "keywords": [str(s.get("subject", "")) for s in _items(datacite, "subjects")],
        "domains": [str(d) for d in dlhub.get("domains", []) if isinstance(d, str)],
        "identifiers": ([str(identifier.get("identifier", ""))] if isinstance(identifier, dict) else [])
        + [str(r.get("relatedIdentifier", "")) for r in _items(datacite, "relatedIdentifiers")],
    }


def visible_to(document: dict[str, Any]) -> list[str]:
    """Who may see a version: its `dlhub.visible_to` principals, `["public"]` when it names none."""
    value = block(document, "dlhub").get("visible_to")
    return [str(p) for p in value] if isinstance(value, list) and value else ["public"]


def block(document: dict[str, Any], key: str) -> dict[str, Any]:
    """The mapping at `document[key]`, or an empty one when it is absent or not a mapping."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _items(block: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = block.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """Title, description, creators, keywords and DOI: what listings show."""
    datacite = block(document, "datacite")
    titles = _items(datacite, "titles")
    descriptions = _items(datacite, "descriptions")
    return {
        "title": titles[0].get("title") if titles else None,
        "description": descriptions[0].get("description") if descriptions else None,
        "creators": [c.get("creatorName") or ", ".join(filter(None, (c.get("familyName"), c.get("givenName"))))
                     for c in _items(datacite, "creators")],
        "keywords": [str(s.get("subject")) for s in _items(datacite, "subjects")],
    }
