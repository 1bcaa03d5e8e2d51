"""The `datacite` block: who made the servable, what it is called, how to cite it, and under which license."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.manifest.checks import bare_orcid, split_name
from dlhub_manifest.util.resources import spdx_identifiers

PLACEHOLDER_DOI = "10.datacite/placeholder"  # what dlhub_sdk wrote until the service minted a DOI
ORCID_URI = "https://orcid.org"
SPDX_URI = "https://spdx.org/licenses/{}.html"


def datacite_block(data: dict[str, Any], version: str) -> dict[str, Any]:
    """DataCite 4.1 metadata for a validated manifest, shaped like dlhub_sdk 2.1.0's output."""
    block: dict[str, Any] = {
        "identifier": {"identifier": PLACEHOLDER_DOI, "identifierType": "DOI"},
        "creators": [creator(c) for c in data.get("creators", [])],
        "titles": [{"title": data["title"]}],
        "publisher": "DLHub",
        "publicationYear": str(data["publication_year"]) if "publication_year" in data else "",
        "resourceType": {"resourceTypeGeneral": "InteractiveResource"},
        "descriptions": [{"description": data["description"], "descriptionType": "Abstract"}]
        if data.get("description") else [],
        "relatedIdentifiers": [related(r) for r in data.get("related", [])],
        "rightsList": rights(data.get("license")),
        "subjects": subjects(data),
        "fundingReferences": [funding(f) for f in data.get("funding", [])],
        "contributors": [],
        "alternateIdentifiers": [],
        "version": version,
    }
    return block


def creator(entry: str | dict[str, Any]) -> dict[str, Any]:
    """A creator: "Family, Given" split into familyName/givenName, with ORCID and affiliations."""
    item = {"name": entry} if isinstance(entry, str) else entry
    family, given = item.get("family"), item.get("given")
    if isinstance(item.get("name"), str):
        family, given = split_name(item["name"]) or (item["name"], given)
    out: dict[str, Any] = {"familyName": family, "affiliations": list(item.get("affiliations", [])),
                           "nameIdentifiers": []}
    if given:
        out["givenName"] = given
    orcid = bare_orcid(item["orcid"]) if isinstance(item.get("orcid"), str) else None
    if orcid:
        out["nameIdentifiers"].append({"nameIdentifier": f"{ORCID_URI}/{orcid}", "nameIdentifierScheme": "ORCID",
                                       "schemeURI": ORCID_URI})
    return out


def related(entry: dict[str, Any]) -> dict[str, Any]:
    """A related resource; `doi:` is shorthand for a DOI identifier, the relation defaults to IsDescribedBy."""
    if "doi" in entry:
        identifier, kind = entry["doi"], "DOI"
    else:
        identifier, kind = entry["identifier"], entry.get("type", "DOI")
    return {"relatedIdentifier": identifier, "relatedIdentifierType": kind,
            "relationType": entry.get("relation", "IsDescribedBy")}


def rights(license_expr: Any) -> list[dict[str, str]]:
    """The SPDX license as a DataCite rights entry, with the SPDX page when it is a single known identifier."""
    if not isinstance(license_expr, str) or not license_expr.strip():
        return []
    entry = {"rights": license_expr}
    if license_expr in spdx_identifiers():
        entry["rightsURI"] = SPDX_URI.format(license_expr)
    return [entry]


def subjects(data: dict[str, Any]) -> list[dict[str, str]]:
    """Keywords, then scientific domains, each once and in the manifest's order."""
    seen: list[str] = []
    for word in [*data.get("keywords", []), *data.get("domains", [])]:
        if word not in seen:
            seen.append(word)
    return [{"subject": word} for word in seen]


def funding(entry: dict[str, Any]) -> dict[str, Any]:
    """A funding reference: the funder, and the award number and title when given."""
    out: dict[str, Any] = {"funderName": entry["funder"]}
    if entry.get("award"):
        out["awardNumber"] = {"awardNumber": str(entry["award"])}
    if entry.get("award_title"):
        out["awardTitle"] = entry["award_title"]
    return out
