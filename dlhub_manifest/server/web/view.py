"""A servable version as the page shows it: plain values picked from the document, nothing left to guess.

Templates read only what these functions return, so a hostile or odd document (wrong types, missing blocks)
changes what is shown, never whether the page renders. Every value stays text for Jinja2 to escape; only the
description goes through the safe Markdown renderer.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from dlhub_manifest.registry.contracts import FileRecord, ServableInfo
from dlhub_manifest.registry.document import block
from dlhub_manifest.server.web.markdown import first_line_text, render_markdown, safe_url
from dlhub_manifest.server.web.provenance import provenance_view
from dlhub_manifest.util.humanize import human_size

ORCID_PREFIX = "https://orcid.org/"
MAX_FILES_SHOWN = 1000  # a page lists this many files at most; the JSON API has the whole index


def when(timestamp: float | None) -> str:
    """A registry timestamp as `YYYY-MM-DD HH:MM UTC`."""
    if not isinstance(timestamp, (int, float)):
        return ""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _items(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = parent.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (documents from a registry may hold anything)."""
    return value if isinstance(value, dict) else {}


def _texts(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, (str, int, float))] if isinstance(value, list) else []


def creators(datacite: dict[str, Any]) -> list[dict[str, Any]]:
    """Name, ORCID link (only an https://orcid.org/ one) and affiliations of each creator."""
    out = []
    for c in _items(datacite, "creators"):
        name = c.get("creatorName") or ", ".join(str(p) for p in (c.get("familyName"), c.get("givenName")) if p)
        orcid = next((str(i.get("nameIdentifier")) for i in _items(c, "nameIdentifiers")
                      if i.get("nameIdentifierScheme") == "ORCID"), "")
        out.append({"name": str(name or "unnamed"), "orcid": orcid if orcid.startswith(ORCID_PREFIX) else "",
                    "orcid_id": orcid.removeprefix(ORCID_PREFIX), "affiliations": _texts(c.get("affiliations"))})
    return out


def related(datacite: dict[str, Any]) -> list[dict[str, str]]:
    """Related works: a DOI links to doi.org, an http(s) URL to itself, anything else stays text."""
    out = []
    for r in _items(datacite, "relatedIdentifiers"):
        ident, kind = str(r.get("relatedIdentifier") or ""), str(r.get("relatedIdentifierType") or "")
        url = f"https://doi.org/{ident}" if kind.upper() == "DOI" and ident.startswith("10.") else ident
        out.append({"identifier": ident, "type": kind, "relation": str(r.get("relationType") or ""),
                    "url": url if safe_url(url) and not url.lower().startswith("mailto:") else ""})
    return out


def type_text(spec: Any) -> str:
    """An input or output spec in words: `ndarray of float, shape (None, 4)`, `list of str`, `dict`."""
    if not isinstance(spec, dict):
        return ""
    text = str(spec.get("type") or "any")
    item = spec.get("item_type")
    if isinstance(item, dict) and item.get("type"):
        text += f" of {type_text(item)}"
    elements = spec.get("element_types")
    if isinstance(elements, list) and elements:
        text += " (" + ", ".join(type_text(e) for e in elements) + ")"
    shape = spec.get("shape")
    if isinstance(shape, list):
        text += ", shape (" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1
                                                                                            else "") + ")"
    return text


def methods(servable: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per method: description, input/output in words with their descriptions, parameters, examples."""
    found = servable.get("methods")
    rows = []
    for name, m in (found.items() if isinstance(found, dict) else []):
        m = m if isinstance(m, dict) else {}
        io = {k: mapping(m.get(k)) for k in ("input", "output")}
        params = mapping(m.get("parameters"))
        examples = m.get("examples", m.get("example"))
        rows.append({"name": str(name), "description": str(m.get("description") or ""),
                     "input": type_text(io["input"]), "input_description": str(io["input"].get("description") or ""),
                     "output": type_text(io["output"]),
                     "output_description": str(io["output"].get("description") or ""),
                     "parameters": [(str(k), json.dumps(v)) for k, v in params.items()],
                     "examples": "" if examples is None else json.dumps(examples, indent=1)[:2000]})
    return rows


def dependencies(dlhub: dict[str, Any]) -> list[tuple[str, str]]:
    """(package, version requirement) pairs of every dependency kind the document lists."""
    deps = dlhub.get("dependencies")
    out = []
    for kind, entries in (deps.items() if isinstance(deps, dict) else []):
        if isinstance(entries, dict):
            out += [(str(k), str(v) if v else "any") for k, v in entries.items()]
        elif isinstance(entries, list):
            out += [(str(e), f"({kind})") for e in entries]
    return out


def files(rows: list[FileRecord]) -> list[tuple[str, str, int, str]]:
    """The file index as (path, human size, bytes, sha256) rows (tuples: a 1,000-row table renders quickly)."""
    return [(str(f["path"]), human_size(int(f["size"])), int(f["size"]), str(f["sha256"])) for f in rows]


def summary_view(item: dict[str, Any]) -> dict[str, Any]:
    """A search result: the catalog summary with the description's first paragraph as plain text."""
    return {**item, "title": str(item.get("title") or item.get("name") or ""),
            "line": first_line_text(str(item.get("description") or "")),
            "creators": _texts(item.get("creators")), "published": when(item.get("published_at"))}


def servable_view(found: ServableInfo, history: list[dict[str, Any]], registry_url: str) -> dict[str, Any]:
    """Everything the servable page shows for one version (`found` is `RegistryService.get_servable`'s answer);
    `registry_url` (this server, as the browser reached it) goes into the how-to-run commands."""
    document = found["document"]
    datacite, dlhub, servable = block(document, "datacite"), block(document, "dlhub"), block(document, "servable")
    titles, descriptions = _items(datacite, "titles"), _items(datacite, "descriptions")
    ref = f"{found['servable']}@{found['version']}"
    return {
        "ref": ref, "owner": found["owner"], "name": found["name"], "version": found["version"],
        "latest": found["latest"], "is_latest": found["version"] == found["latest"],
        "title": str(titles[0].get("title") or found["name"]) if titles else found["name"],
        "description": render_markdown(str(descriptions[0].get("description") or "")) if descriptions else "",
        "creators": creators(datacite), "license": ", ".join(str(r.get("rights")) for r in
                                                            _items(datacite, "rightsList")),
        "keywords": [str(s.get("subject")) for s in _items(datacite, "subjects")],
        "domains": _texts(dlhub.get("domains")), "related": related(datacite),
        "type": str(servable.get("type") or ""), "methods": (rows := methods(servable)),
        "has_examples": any(m["examples"] for m in rows),
        "files": files(found["files"][:MAX_FILES_SHOWN]), "files_count": len(found["files"]),
        "files_hidden": max(len(found["files"]) - MAX_FILES_SHOWN, 0),
        "total_size": human_size(sum(int(f["size"]) for f in found["files"])),
        "dependencies": dependencies(dlhub), "provenance": provenance_view(found.get("provenance")),
        "published": when(found.get("published_at")), "public": "public" in _texts(dlhub.get("visible_to")) or
        not dlhub.get("visible_to"),
        "versions": [{**h, "published": when(h["published_at"])} for h in reversed(history)],
        "run_cli": f"dlhub-manifest run {ref} --input @input.json --target {registry_url}",
        "run_api": f"from dlhub_manifest import api\n\nresult = api.run({ref!r}, inputs, target={registry_url!r})",
    }
