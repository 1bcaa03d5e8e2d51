"""DataCite Metadata Schema 4.5: JSON (the DataCite REST API's attributes) and XML (written by the `datacite` package).

A DOI is only known for a version that has one (`export --doi`); a manifest without `publication_year` gets the
year of the version's publication date, else the current year, and says so.
"""

from __future__ import annotations

import datetime
from typing import Any

from dlhub_manifest.citation.common import ORCID_URL, SPDX_URL, Lost, source_url, spdx_id
from dlhub_manifest.citation.facts import Facts, Person, facts_from_datacite
from dlhub_manifest.errors import UsageError

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
PUBLISHER = "DLHub"


def write(facts: Facts, lost: Lost) -> dict[str, Any]:
    """The DataCite 4.5 JSON record for `facts` (valid against the schema the `datacite` package ships)."""
    out: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
    if facts.doi:
        out["doi"] = facts.doi
    else:
        lost.add("identifier: no DOI yet; pass --doi with the DOI you reserved before registering with DataCite")
    out.update({
        "creators": [_creator(p) for p in facts.creators], "titles": [{"title": facts.title}],
        "publisher": {"name": PUBLISHER}, "publicationYear": str(_year(facts, lost)),
        "types": {"resourceTypeGeneral": "Model", "resourceType": "Machine-learning model"},
    })
    _optional(out, facts)
    return out


def _year(facts: Facts, lost: Lost) -> int:
    if facts.year:
        return facts.year
    year = datetime.datetime.now(datetime.timezone.utc).year
    lost.add(f"publicationYear: DataCite requires one and the manifest has no publication_year; {year} is written")
    return year


def _optional(out: dict[str, Any], facts: Facts) -> None:
    if facts.description:
        out["descriptions"] = [{"description": facts.description, "descriptionType": "Abstract"}]
    if facts.subjects:
        out["subjects"] = [{"subject": s} for s in facts.subjects]
    if facts.version:
        out["version"] = facts.version
    if facts.license:
        out["rightsList"] = [_rights(facts.license)]
    related: list[dict[str, Any]] = [
        {"relatedIdentifier": r.identifier, "relatedIdentifierType": r.kind, "relationType": r.relation}
        for r in facts.related]
    if facts.repository:
        related.append({"relatedIdentifier": source_url(facts), "relatedIdentifierType": "URL",
                        "relationType": "IsDerivedFrom", "resourceTypeGeneral": "Software"})
    if related:
        out["relatedIdentifiers"] = related
    if facts.funding:
        out["fundingReferences"] = [_funding(f.funder, f.award, f.award_title) for f in facts.funding]
    if facts.date:
        out["dates"] = [{"date": facts.date, "dateType": "Issued"}]
    if facts.url:
        out["url"] = facts.url


def _creator(person: Person) -> dict[str, Any]:
    out: dict[str, Any] = {"name": person.display, "nameType": "Personal", "familyName": person.family}
    if person.given:
        out["givenName"] = person.given
    if person.orcid:
        out["nameIdentifiers"] = [{"nameIdentifier": ORCID_URL + person.orcid, "nameIdentifierScheme": "ORCID",
                                   "schemeUri": "https://orcid.org"}]
    if person.affiliations:
        out["affiliation"] = [{"name": a} for a in person.affiliations]
    return out


def _rights(license_expr: str) -> dict[str, str]:
    if spdx_id(license_expr):
        return {"rights": license_expr, "rightsUri": f"{SPDX_URL}{license_expr}.html",
                "rightsIdentifier": license_expr, "rightsIdentifierScheme": "SPDX", "schemeUri": SPDX_URL}
    return {"rights": license_expr}


def _funding(funder: str, award: str | None, title: str | None) -> dict[str, str]:
    out = {"funderName": funder}
    if award:
        out["awardNumber"] = award
    if title:
        out["awardTitle"] = title
    return out


def to_xml(record: dict[str, Any]) -> str:
    """The record as DataCite 4.5 XML, written by the `datacite` package (pip install 'dlhub-manifest[cite]')."""
    try:
        from datacite import schema45
    except ImportError as e:
        raise UsageError("DataCite XML needs the `datacite` package: pip install 'dlhub-manifest[cite]'") from e
    text: str = schema45.tostring(record)
    return text


def read(data: dict[str, Any]) -> Facts:
    """The facts of a DataCite JSON record (REST API attributes, or the `data.attributes` envelope)."""
    attributes = (data.get("data") or {}).get("attributes") if isinstance(data.get("data"), dict) else None
    record = attributes or data
    facts = facts_from_datacite({**record, "identifier": {"identifier": record.get("doi")}})
    dates = [d.get("date") for d in record.get("dates") or [] if d.get("dateType") == "Issued"]
    return Facts(**{**{k: getattr(facts, k) for k in Facts.__dataclass_fields__},
                    "date": str(dates[0])[:10] if dates else None, "url": record.get("url")})
