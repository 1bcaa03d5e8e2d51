"""CITATION.cff (Citation File Format 1.2.0), the file behind GitHub's "Cite this repository".

CFF has no field for a relation type: related resources are written as `identifiers` whose description is
`<relation>: related resource` (read back on import). Funding has no field at all.
"""

from __future__ import annotations

from typing import Any

from dlhub_manifest.citation.common import ORCID_URL, Lost, license_and_keywords, orcid_of
from dlhub_manifest.citation.facts import Facts, Person, Related

MESSAGE = "If you use this model, please cite it using the metadata from this file."
_KINDS = {"DOI": "doi", "URL": "url"}
_RELATED = ": related resource"


def write(facts: Facts, lost: Lost) -> dict[str, Any]:
    """The CFF 1.2.0 document for `facts`; what CFF cannot hold is noted in `lost`."""
    out: dict[str, Any] = {"cff-version": "1.2.0", "message": MESSAGE, "type": "software", "title": facts.title}
    _optional(out, facts)
    out["authors"] = [_author(p, lost) for p in facts.creators]
    license_and_keywords(out, facts, lost, "CFF")
    identifiers = [_identifier(r, lost) for r in facts.related]
    if any(identifiers):
        out["identifiers"] = [i for i in identifiers if i]
    if facts.funding:
        lost.add("funding: CFF has no field for funding")
    if facts.year and not facts.date:
        lost.add("publication_year: CFF holds a release date (date-released), not a year alone")
    return out


def _optional(out: dict[str, Any], facts: Facts) -> None:
    for key, value in (("abstract", facts.description), ("version", facts.version), ("doi", facts.doi),
                       ("date-released", facts.date), ("url", facts.url), ("repository-code", facts.repository),
                       ("commit", facts.commit)):
        if value:
            out[key] = value


def _author(person: Person, lost: Lost) -> dict[str, Any]:
    out: dict[str, Any] = {"family-names": person.family}
    if person.given:
        out["given-names"] = person.given
    if person.orcid:
        out["orcid"] = ORCID_URL + person.orcid
    if person.affiliations:
        out["affiliation"] = "; ".join(person.affiliations)
        if len(person.affiliations) > 1:
            lost.add("affiliations: CFF holds one affiliation per author; several are joined with '; '")
    return out


def _identifier(related: Related, lost: Lost) -> dict[str, str] | None:
    kind = _KINDS.get(related.kind)
    if kind is None:
        lost.add(f"related: CFF identifiers are DOIs or URLs; the {related.kind} identifier is left out")
        return None
    lost.add("related: CFF identifiers carry no relation type; it is written in each identifier's description")
    return {"type": kind, "value": related.identifier, "description": related.relation + _RELATED}


def read(data: dict[str, Any]) -> Facts:
    """The facts of a CFF document (already checked to be a mapping)."""
    date = str(data["date-released"]) if data.get("date-released") else None
    license_value = data.get("license")
    return Facts(
        title=str(data.get("title") or ""), description=data.get("abstract"),
        version=str(data["version"]) if data.get("version") is not None else None,
        creators=tuple(_person(a) for a in data.get("authors") or [] if isinstance(a, dict)),
        license=str(license_value[0] if isinstance(license_value, list) else license_value) if license_value else None,
        keywords=tuple(str(k) for k in data.get("keywords") or []),
        related=tuple(r for r in (_related(i) for i in data.get("identifiers") or []) if r),
        doi=data.get("doi"), date=date, year=int(date[:4]) if date and date[:4].isdigit() else None,
        repository=data.get("repository-code"), commit=data.get("commit"), url=data.get("url"),
    )


def _person(author: dict[str, Any]) -> Person:
    family = author.get("family-names") or author.get("name") or ""
    affiliation = str(author.get("affiliation") or "")
    return Person(str(family), author.get("given-names"), orcid_of(author.get("orcid")),
                  tuple(a.strip() for a in affiliation.split(";") if a.strip()))


def _related(entry: Any) -> Related | None:
    if not isinstance(entry, dict) or not str(entry.get("description", "")).endswith(_RELATED):
        return None  # an identifier of the work itself, not of a related resource
    kind = {"doi": "DOI", "url": "URL"}.get(str(entry.get("type")), "URL")
    return Related(str(entry["value"]), kind, str(entry["description"]).removesuffix(_RELATED))
