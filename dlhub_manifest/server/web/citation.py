"""How to cite a servable: BibTeX and CITATION.cff text from its document.

`citation_text(document, fmt)` is the one entry point the pages use, so the formatter behind it can be
swapped for a fuller exporter without touching the pages. Only DataCite fields are read.
"""

from __future__ import annotations

import re
from typing import Any

from dlhub_manifest.errors import UsageError
from dlhub_manifest.registry.document import block

FORMATS = {"bibtex": ("citation.bib", "application/x-bibtex"), "cff": ("CITATION.cff", "application/yaml")}
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def citation_text(document: dict[str, Any], fmt: str) -> str:
    """The citation of `document` as `bibtex` or `cff` (CITATION.cff 1.2.0)."""
    if fmt == "bibtex":
        return _bibtex(document)
    if fmt == "cff":
        return _cff(document)
    raise UsageError(f"unknown citation format {fmt!r}; use one of: {', '.join(FORMATS)}")


def _creators(datacite: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(family, given, ORCID URL or None) of each creator; a single-string name is taken as the family name."""
    out = []
    for c in datacite.get("creators") or []:
        if not isinstance(c, dict):
            continue
        family = str(c.get("familyName") or c.get("creatorName") or "")
        orcid = next((str(i.get("nameIdentifier")) for i in c.get("nameIdentifiers") or []
                      if isinstance(i, dict) and i.get("nameIdentifierScheme") == "ORCID"), None)
        out.append((family, str(c.get("givenName") or ""), orcid))
    return out


def _first(datacite: dict[str, Any], key: str, field: str) -> str:
    items = datacite.get(key)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get(field) or "")
    return ""


def _doi(datacite: dict[str, Any]) -> str | None:
    """The servable's own DOI, unless it is the builder's placeholder."""
    ident = datacite.get("identifier")
    if isinstance(ident, dict) and ident.get("identifierType") == "DOI":
        value = str(ident.get("identifier") or "")
        return value if value.startswith("10.") and "placeholder" not in value else None
    return None


def _bib(value: str) -> str:
    """A BibTeX field value: special characters escaped, no line breaks."""
    return _BIBTEX_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _bibtex(document: dict[str, Any]) -> str:
    datacite, dlhub = block(document, "datacite"), block(document, "dlhub")
    key = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{dlhub.get('owner', '')}-{dlhub.get('name', 'servable')}").strip("-")
    authors = " and ".join(_bib(", ".join(p for p in (f, g) if p)) for f, g, _ in _creators(datacite))
    fields = {"title": _first(datacite, "titles", "title"), "author": authors, "year": str(
        datacite.get("publicationYear") or ""), "version": str(datacite.get("version") or ""),
        "publisher": str(datacite.get("publisher") or ""), "doi": _doi(datacite) or "",
        "note": _first(datacite, "rightsList", "rights") and f"License: {_first(datacite, 'rightsList', 'rights')}"}
    body = ",\n".join(f"  {k} = {{{v if k == 'author' else _bib(v)}}}" for k, v in fields.items() if v)
    return f"@software{{{key or 'servable'},\n{body}\n}}\n"


def _yaml_str(value: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    import json

    return json.dumps(" ".join(value.split()), ensure_ascii=False)


def _cff(document: dict[str, Any]) -> str:
    datacite = block(document, "datacite")
    lines = ["cff-version: 1.2.0", 'message: "If you use this model, please cite it as below."',
             "type: software", f"title: {_yaml_str(_first(datacite, 'titles', 'title'))}", "authors:"]
    for family, given, orcid in _creators(datacite) or [("anonymous", "", None)]:
        lines.append(f"  - family-names: {_yaml_str(family)}")
        lines += [f"    given-names: {_yaml_str(given)}"] if given else []
        lines += [f"    orcid: {_yaml_str(orcid)}"] if orcid else []
    optional = {"version": str(datacite.get("version") or ""), "doi": _doi(datacite) or "",
                "license": _first(datacite, "rightsList", "rights"),
                "abstract": _first(datacite, "descriptions", "description")}
    lines += [f"{k}: {_yaml_str(v)}" for k, v in optional.items() if v]
    keywords = [str(s.get("subject")) for s in datacite.get("subjects") or [] if isinstance(s, dict)]
    if keywords:
        lines += ["keywords:", *(f"  - {_yaml_str(k)}" for k in keywords)]
    return "\n".join(lines) + "\n"
