"""`codemeta.json` (CodeMeta 3.0 JSON-LD), read by software catalogues and Software Heritage.

A paper that describes the servable is its `referencePublication`; other related resources are `relatedLink`s,
which carry no relation type. The commit has no field.
"""

from __future__ import annotations

from typing import Any

from dlhub_manifest.citation.common import DOI_URL, ORCID_URL, SPDX_URL, Lost, license_from_url, link, orcid_of, unlink
from dlhub_manifest.citation.facts import Facts, Funding, Person, Related

CONTEXT = "https://w3id.org/codemeta/3.0"


def write(facts: Facts, lost: Lost) -> dict[str, Any]:
    """The CodeMeta 3.0 document for `facts`; what CodeMeta cannot hold is noted in `lost`."""
    out: dict[str, Any] = {"@context": CONTEXT, "@type": "SoftwareSourceCode", "name": facts.title}
    for key, value in (("description", facts.description), ("version", facts.version),
                       ("codeRepository", facts.repository), ("url", facts.url),
                       ("datePublished", facts.date or (str(facts.year) if facts.year else None)),
                       ("identifier", DOI_URL + facts.doi if facts.doi else None)):
        if value:
            out[key] = value
    out["author"] = [_author(p) for p in facts.creators]
    if facts.license:
        out["license"] = SPDX_URL + facts.license if " " not in facts.license else facts.license
    if facts.keywords:
        out["keywords"] = list(facts.keywords)
    if facts.domains:
        out["applicationCategory"] = list(facts.domains)
    _related(out, facts.related, lost)
    if facts.funding:
        out["funding"] = [_grant(f) for f in facts.funding]
    if facts.commit:
        lost.add("commit: CodeMeta has no field for the commit")
    return out


def _author(person: Person) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "Person", "familyName": person.family}
    if person.orcid:
        out["@id"] = ORCID_URL + person.orcid
    if person.given:
        out["givenName"] = person.given
    if person.affiliations:
        out["affiliation"] = [{"@type": "Organization", "name": a} for a in person.affiliations]
    return out


def _related(out: dict[str, Any], related: tuple[Related, ...], lost: Lost) -> None:
    papers, links = [], []
    for item in related:
        url = link(item.identifier, item.kind)
        if url is None:
            lost.add(f"related: CodeMeta links need a URL; the {item.kind} identifier is left out")
        elif item.relation == "IsDescribedBy":
            papers.append({"@type": "ScholarlyArticle", "@id": url})
        else:
            lost.add("related: CodeMeta's relatedLink carries no relation type; only the link is kept")
            links.append(url)
    if papers:
        out["referencePublication"] = papers
    if links:
        out["relatedLink"] = links


def _grant(funding: Funding) -> dict[str, Any]:
    grant: dict[str, Any] = {"@type": "Grant", "funder": {"@type": "Organization", "name": funding.funder}}
    if funding.award:
        grant["identifier"] = funding.award
    if funding.award_title:
        grant["name"] = funding.award_title
    return grant


def read(data: dict[str, Any]) -> Facts:
    """The facts of a CodeMeta 2.0/3.0 document (already checked to be a mapping)."""
    published = str(data.get("datePublished") or "")
    identifier = str(data.get("identifier") or "")
    return Facts(
        title=str(data.get("name") or ""), description=data.get("description"),
        version=str(data.get("version") or data.get("softwareVersion") or "") or None,
        creators=tuple(_person(a) for a in _list(data.get("author")) if isinstance(a, dict)),
        license=license_from_url(str(_list(data.get("license"))[0])) if data.get("license") else None,
        keywords=tuple(str(k) for k in _keywords(data.get("keywords"))),
        domains=tuple(str(k) for k in _list(data.get("applicationCategory"))),
        related=tuple(_read_related(data)), funding=tuple(_funding(g) for g in _list(data.get("funding"))),
        date=published if len(published) == 10 else None,
        year=int(published[:4]) if published[:4].isdigit() else None,
        doi=unlink(identifier)[0] if identifier.startswith(DOI_URL) else None,
        repository=data.get("codeRepository"), url=data.get("url"),
    )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _keywords(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return _list(value)


def _person(author: dict[str, Any]) -> Person:
    affiliations = [a.get("name") if isinstance(a, dict) else a for a in _list(author.get("affiliation"))]
    family = author.get("familyName") or author.get("name") or ""
    orcid = orcid_of(author.get("@id") or author.get("id")) if "orcid.org" in str(author.get("@id", "")) else None
    return Person(str(family), author.get("givenName"), orcid, tuple(str(a) for a in affiliations if a))


def _read_related(data: dict[str, Any]) -> list[Related]:
    out = []
    for paper in _list(data.get("referencePublication")):
        url = paper.get("@id") or paper.get("url") if isinstance(paper, dict) else paper
        if url:
            out.append(Related(*unlink(str(url)), "IsDescribedBy"))
    for url in _list(data.get("relatedLink")):
        out.append(Related(*unlink(str(url)), "References"))
    return out


def _funding(grant: Any) -> Funding:
    if not isinstance(grant, dict):
        return Funding(str(grant))
    funder = grant.get("funder")
    name = funder.get("name") if isinstance(funder, dict) else funder
    return Funding(str(name or grant.get("name") or ""), grant.get("identifier"),
                   grant.get("name") if name else None)
