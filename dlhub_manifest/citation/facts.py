"""The citation facts of a servable, extracted once from a manifest or a published version, read by every format."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.build.datacite import PLACEHOLDER_DOI
from dlhub_manifest.manifest.checks import bare_orcid, split_name


@dataclass(frozen=True)
class Person:
    """A creator: family and given names, a bare ORCID iD (16 characters) and affiliations."""

    family: str
    given: str | None = None
    orcid: str | None = None
    affiliations: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """`Family, Given` (or the family name alone), as the manifest and BibTeX write names."""
        return f"{self.family}, {self.given}" if self.given else self.family


@dataclass(frozen=True)
class Related:
    """A related resource: its identifier, the identifier's type (DataCite's vocabulary) and the relation."""

    identifier: str
    kind: str = "DOI"
    relation: str = "IsDescribedBy"


@dataclass(frozen=True)
class Funding:
    """A funding reference."""

    funder: str
    award: str | None = None
    award_title: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything a citation format can say about a servable; empty values are unknown, not false."""

    title: str
    name: str | None = None
    description: str | None = None
    version: str | None = None
    creators: tuple[Person, ...] = ()
    license: str | None = None
    keywords: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    funding: tuple[Funding, ...] = ()
    year: int | None = None
    date: str | None = None  # ISO date the version was published
    doi: str | None = None
    repository: str | None = None
    commit: str | None = None
    url: str | None = None  # where the published version is served
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # format-specific leftovers, for import

    @property
    def subjects(self) -> tuple[str, ...]:
        """Keywords then domains, each once: formats with one subject list get both."""
        return tuple(dict.fromkeys([*self.keywords, *self.domains]))


def person_from_manifest(entry: str | dict[str, Any]) -> Person:
    """A manifest creator (`"Family, Given"` or an object) as a Person."""
    item: dict[str, Any] = {"name": entry} if isinstance(entry, str) else entry
    family, given = item.get("family"), item.get("given")
    if isinstance(item.get("name"), str):
        family, given = split_name(item["name"]) or (item["name"], given)
    orcid = bare_orcid(item["orcid"]) if isinstance(item.get("orcid"), str) else None
    return Person(str(family), given, orcid, tuple(item.get("affiliations", ())))


def related_from_manifest(entry: dict[str, Any]) -> Related:
    """A manifest `related` entry; `doi:` is shorthand for a DOI identifier."""
    if "doi" in entry:
        return Related(entry["doi"], "DOI", entry.get("relation", "IsDescribedBy"))
    return Related(entry["identifier"], entry.get("type", "DOI"), entry.get("relation", "IsDescribedBy"))


def facts_from_manifest(data: dict[str, Any]) -> Facts:
    """The facts of a validated manifest's data."""
    return Facts(
        title=data["title"], name=data.get("name"), description=data.get("description"), version=data.get("version"),
        creators=tuple(person_from_manifest(c) for c in data.get("creators", [])), license=data.get("license"),
        keywords=tuple(data.get("keywords", [])), domains=tuple(data.get("domains", [])),
        related=tuple(related_from_manifest(r) for r in data.get("related", [])),
        funding=tuple(Funding(f["funder"], f.get("award"), f.get("award_title")) for f in data.get("funding", [])),
        year=data.get("publication_year"),
    )


def facts_from_published(found: Mapping[str, Any], url: str | None = None) -> Facts:
    """The facts of a published version (`get_servable`'s answer): its document plus version, date and provenance."""
    document = found["document"]
    facts = facts_from_datacite(document.get("datacite") or {})
    dlhub = document.get("dlhub") or {}
    provenance = found.get("provenance") or document.get("provenance") or {}
    date = _iso_date(found.get("published_at"))
    return Facts(**{**_fields(facts), "name": dlhub.get("name"), "version": found.get("version") or facts.version,
                    "domains": tuple(dlhub.get("domains", ())), "date": date,
                    "year": facts.year or (int(date[:4]) if date else None),
                    "repository": provenance.get("repository"), "commit": provenance.get("commit"), "url": url})


def facts_from_datacite(block: dict[str, Any]) -> Facts:
    """The facts of a DataCite 4.x block (the servable document's, or a DataCite JSON record)."""
    titles = block.get("titles") or [{}]
    descriptions = [d.get("description") for d in block.get("descriptions") or [] if d.get("description")]
    identifier = (block.get("identifier") or {}).get("identifier") or _doi_of(block)
    year = str(block.get("publicationYear") or "")
    return Facts(
        title=str(titles[0].get("title") or ""), description=descriptions[0] if descriptions else None,
        version=block.get("version") or None, creators=tuple(_datacite_person(c) for c in block.get("creators", [])),
        license=_datacite_license(block), keywords=tuple(s["subject"] for s in block.get("subjects", [])),
        related=tuple(Related(r["relatedIdentifier"], r.get("relatedIdentifierType", "DOI"), r["relationType"])
                      for r in block.get("relatedIdentifiers", [])),
        funding=tuple(_datacite_funding(f) for f in block.get("fundingReferences", [])),
        year=int(year) if year.isdigit() else None,
        doi=identifier if identifier and identifier != PLACEHOLDER_DOI else None,
    )


def _fields(facts: Facts) -> dict[str, Any]:
    return {name: getattr(facts, name) for name in Facts.__dataclass_fields__}


def _doi_of(block: dict[str, Any]) -> str | None:
    for ident in block.get("identifiers") or []:
        if ident.get("identifierType") == "DOI":
            return str(ident.get("identifier"))
    return block.get("doi") or None


def _datacite_person(entry: dict[str, Any]) -> Person:
    family, given = entry.get("familyName"), entry.get("givenName")
    if not family:
        family, given = split_name(str(entry.get("name", ""))) or (str(entry.get("name", "")), given)
    orcid = None
    for ident in entry.get("nameIdentifiers") or []:
        if str(ident.get("nameIdentifierScheme", "")).upper() == "ORCID":
            orcid = bare_orcid(str(ident.get("nameIdentifier", "")).replace("http://", "https://"))
    affiliations = [a if isinstance(a, str) else a.get("name", "") for a in
                    entry.get("affiliations") or entry.get("affiliation") or []]
    return Person(str(family), given or None, orcid, tuple(a for a in affiliations if a))


def _datacite_license(block: dict[str, Any]) -> str | None:
    rights = block.get("rightsList") or []
    if not rights:
        return None
    first = rights[0]
    return str(first.get("rightsIdentifier") or first.get("rights") or "") or None


def _datacite_funding(entry: dict[str, Any]) -> Funding:
    award = entry.get("awardNumber")
    number = award.get("awardNumber") if isinstance(award, dict) else award
    return Funding(entry["funderName"], number or None, entry.get("awardTitle") or None)


def _iso_date(value: Any) -> str | None:
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).date().isoformat()
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    return None
