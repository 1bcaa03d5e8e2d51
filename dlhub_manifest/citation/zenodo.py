"""`.zenodo.json`: the deposit metadata Zenodo's GitHub integration reads on each release.

Zenodo's relation vocabulary is DataCite's with a lower-case first letter, minus a few; grants need the funder's
registry id, which a manifest does not hold. The repository and commit become an `isSupplementTo` software link.
"""

from __future__ import annotations

import re
from typing import Any

from dlhub_manifest.citation.common import Lost, license_and_keywords, orcid_of, source_url
from dlhub_manifest.citation.facts import Facts, Person, Related

RELATIONS = (
    "isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "isContinuedBy", "continues", "isDescribedBy",
    "describes", "hasMetadata", "isMetadataFor", "isNewVersionOf", "isPreviousVersionOf", "isPartOf", "hasPart",
    "isReferencedBy", "references", "isDocumentedBy", "documents", "isCompiledBy", "compiles", "isVariantFormOf",
    "isOriginalFormof", "isIdenticalTo", "isAlternateIdentifier", "isReviewedBy", "reviews", "isDerivedFrom",
    "isSourceOf", "requires", "isRequiredBy", "isObsoletedBy", "obsoletes",
)
_BY_LOWER = {r.lower(): r for r in RELATIONS}
_SCHEMES = {"DOI": "doi", "URL": "url", "arXiv": "arxiv", "Handle": "handle", "ISBN": "isbn", "PMID": "pmid",
            "URN": "urn"}
_TREE = re.compile(r"^(?P<repo>.+)/tree/(?P<commit>[0-9a-f]{7,64})$")


def write(facts: Facts, lost: Lost) -> dict[str, Any]:
    """The Zenodo deposit metadata for `facts`; what Zenodo cannot hold is noted in `lost`."""
    out: dict[str, Any] = {"upload_type": "software", "title": facts.title,
                           "creators": [_creator(p, lost) for p in facts.creators],
                           "description": facts.description or facts.title, "access_right": "open"}
    if not facts.description:
        lost.add("description: Zenodo requires one; the title is written in its place")
    _optional(out, facts, lost)
    related = [r for r in (_related(r, lost) for r in facts.related) if r]
    if facts.repository:
        related.append({"identifier": source_url(facts), "relation": "isSupplementTo", "scheme": "url",
                        "resource_type": "software"})
    if related:
        out["related_identifiers"] = related
    if facts.funding:
        lost.add("funding: Zenodo grants need the funder's registry id (10.13039/...::award); add `grants` by hand")
    return out


def _optional(out: dict[str, Any], facts: Facts, lost: Lost) -> None:
    license_and_keywords(out, facts, lost, "Zenodo")
    for key, value in (("version", facts.version), ("doi", facts.doi), ("publication_date", facts.date)):
        if value:
            out[key] = value
    if facts.year and not facts.date:
        lost.add("publication_year: Zenodo holds a publication date, not a year alone")


def _creator(person: Person, lost: Lost) -> dict[str, Any]:
    out: dict[str, Any] = {"name": person.display}
    if person.affiliations:
        out["affiliation"] = "; ".join(person.affiliations)
        if len(person.affiliations) > 1:
            lost.add("affiliations: Zenodo holds one affiliation per creator; several are joined with '; '")
    if person.orcid:
        out["orcid"] = person.orcid
    return out


def _related(related: Related, lost: Lost) -> dict[str, Any] | None:
    relation = _BY_LOWER.get(related.relation.lower())
    if relation is None:
        lost.add(f"related: Zenodo has no relation {related.relation!r}; that resource is left out")
        return None
    return {"identifier": related.identifier, "relation": relation, "scheme": _SCHEMES[related.kind]}


def read(data: dict[str, Any]) -> Facts:
    """The facts of Zenodo deposit metadata (already checked to be a mapping)."""
    date = str(data["publication_date"]) if data.get("publication_date") else None
    related, repository, commit = _read_related(data.get("related_identifiers") or [])
    description = data.get("description")
    return Facts(
        title=str(data.get("title") or ""), description=description if description != data.get("title") else None,
        version=str(data["version"]) if data.get("version") is not None else None,
        creators=tuple(_person(c) for c in data.get("creators") or [] if isinstance(c, dict)),
        license=_license(data.get("license")), keywords=tuple(str(k) for k in data.get("keywords") or []),
        related=tuple(related), doi=data.get("doi"), date=date,
        year=int(date[:4]) if date and date[:4].isdigit() else None, repository=repository, commit=commit,
    )


def _license(value: Any) -> str | None:
    if isinstance(value, dict):  # the deposit API's answer: {"id": "MIT"}
        value = value.get("id")
    return str(value) if value else None


def _person(creator: dict[str, Any]) -> Person:
    name = str(creator.get("name") or "")
    family, _, given = name.partition(",")
    affiliation = str(creator.get("affiliation") or "")
    return Person(family.strip(), given.strip() or None, orcid_of(creator.get("orcid")),
                  tuple(a.strip() for a in affiliation.split(";") if a.strip()))


def _read_related(entries: list[Any]) -> tuple[list[Related], str | None, str | None]:
    related: list[Related] = []
    repository = commit = None
    kinds = {v: k for k, v in _SCHEMES.items()}
    for entry in entries:
        if not isinstance(entry, dict) or "identifier" not in entry:
            continue
        identifier, relation = str(entry["identifier"]), str(entry.get("relation", "isDescribedBy"))
        if relation == "isSupplementTo" and entry.get("resource_type") == "software" and repository is None:
            match = _TREE.match(identifier)
            repository, commit = (match["repo"], match["commit"]) if match else (identifier, None)
            continue
        scheme = kinds.get(str(entry.get("scheme", "")).lower(), "URL" if "://" in identifier else "DOI")
        related.append(Related(identifier, scheme, _datacite_relation(relation)))
    return related, repository, commit


def _datacite_relation(relation: str) -> str:
    """Zenodo's `isOriginalFormof` and friends as DataCite writes them."""
    fixed = relation[:1].upper() + relation[1:]
    return "IsOriginalFormOf" if fixed == "IsOriginalFormof" else fixed
