"""Helpers every citation format shares: identifier links, SPDX checks, and the `Lost` notes of what a format drops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.citation.facts import Facts
from dlhub_manifest.util.resources import spdx_identifiers

ORCID_URL = "https://orcid.org/"
DOI_URL = "https://doi.org/"
SPDX_URL = "https://spdx.org/licenses/"
_LINKS = {"DOI": DOI_URL, "arXiv": "https://arxiv.org/abs/", "Handle": "https://hdl.handle.net/",
          "PMID": "https://pubmed.ncbi.nlm.nih.gov/"}


@dataclass
class Lost:
    """What a format could not hold, said once per kind of fact (`export` prints these on stderr)."""

    notes: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def link(identifier: str, kind: str) -> str | None:
    """An identifier as a URL (`10.1/x` -> `https://doi.org/10.1/x`), or None when it has no resolver."""
    if kind == "URL":
        return identifier
    prefix = _LINKS.get(kind)
    return prefix + identifier if prefix else None


def unlink(url: str) -> tuple[str, str]:
    """A URL back to (identifier, type): a doi.org or arXiv link becomes a DOI or arXiv identifier."""
    for kind, prefix in _LINKS.items():
        for variant in (prefix, prefix.replace("https://", "http://")):
            if url.startswith(variant):
                return url[len(variant):], kind
    if url.lower().startswith("doi:"):
        return url[4:], "DOI"
    return url, "URL" if "://" in url else "DOI"


def spdx_id(license_expr: str | None) -> str | None:
    """The license when it is one known SPDX identifier (not an expression), else None."""
    return license_expr if license_expr and license_expr in spdx_identifiers() else None


def license_from_url(value: str) -> str:
    """`https://spdx.org/licenses/MIT(.html)` -> `MIT`; anything else unchanged."""
    for prefix in (SPDX_URL, SPDX_URL.replace("https://", "http://")):
        if value.startswith(prefix):
            return value[len(prefix):].removesuffix(".html").removesuffix(".json")
    return value


def orcid_of(value: str | None) -> str | None:
    """The bare ORCID iD of a URL or bare iD (None when absent)."""
    if not value:
        return None
    bare = value.strip().removeprefix("http://orcid.org/").removeprefix("https://orcid.org/")
    return bare or None


def license_and_keywords(out: dict[str, Any], facts: Facts, lost: Lost, fmt: str) -> None:
    """`license` (one SPDX identifier) and `keywords` (keywords and domains), for formats with just those fields."""
    if facts.license:
        if spdx_id(facts.license):
            out["license"] = facts.license
        else:
            lost.add(f"license: {fmt} takes one SPDX license identifier, not the expression {facts.license!r}")
    if facts.subjects:
        out["keywords"] = list(facts.subjects)
        if facts.domains:
            lost.add(f"domains: {fmt} has no domains; they are written as keywords")


def source_url(facts: Facts) -> str | None:
    """The repository, at the commit when known (`<repo>/tree/<sha>`, as GitHub and GitLab link a commit's tree)."""
    if not facts.repository:
        return None
    return f"{facts.repository}/tree/{facts.commit}" if facts.commit else facts.repository
