"""Citation facts -> manifest fields, with a note on every value the user must still check or fill in.

Notes are keyed by field path and become YAML comments above the field (see `yaml_out.py`); facts the manifest
has no field for become header notes, so nothing read from the source disappears silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.citation.facts import Facts, Person, Related
from dlhub_manifest.errors import UsageError
from dlhub_manifest.manifest.checks import bare_orcid, doi_problem, orcid_checksum_ok, spdx_problem, split_name
from dlhub_manifest.manifest.diagnostics import FieldPath
from dlhub_manifest.util.resources import manifest_schema
from dlhub_manifest.util.servable_ref import NAME
from dlhub_manifest.util.versions import parse_version

CHECK, FILL = "CHECK: ", "FILL IN: "
MAX_TITLE = 300  # the manifest schema's limit


@dataclass
class Draft:
    """A manifest being written: its data, notes by field path, and header notes."""

    data: dict[str, Any] = field(default_factory=dict)
    notes: dict[FieldPath, list[str]] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)

    def note(self, path: FieldPath, text: str) -> None:
        self.notes.setdefault(path, []).append(text)


def manifest_fields(facts: Facts, draft: Draft) -> None:
    """Fill `draft` with the citation fields of `facts`, noting what to check."""
    data = draft.data
    data["manifest_version"] = 1
    _name(facts, draft)
    title = " ".join(facts.title.split())
    data["title"] = title[:MAX_TITLE] or "Untitled servable"
    if not title:
        draft.note(("title",), FILL + "the source has no title")
    elif len(title) > MAX_TITLE:
        draft.note(("title",), CHECK + f"shortened to {MAX_TITLE} characters; move the rest to `description`")
    if facts.description:
        data["description"] = facts.description
    _version(facts, draft)
    _creators(facts.creators, draft)
    _license(facts.license, draft)
    if facts.year:
        data["publication_year"] = facts.year
    _related(facts.related, draft)
    for key, values in (("keywords", facts.keywords), ("domains", facts.domains)):
        kept = [v for v in values if v.strip()]
        if kept:
            data[key] = kept
    if facts.funding:
        data["funding"] = [_funding(f.funder, f.award, f.award_title) for f in facts.funding]
    _unheld(facts, draft)


def _name(facts: Facts, draft: Draft) -> None:
    if facts.name and NAME.match(facts.name):
        draft.data["name"] = facts.name
        return
    slug = re.sub(r"[^a-z0-9._-]+", "-", (facts.name or facts.title).lower()).strip("-._")[:64] or "servable"
    draft.data["name"] = slug
    draft.note(("name",), CHECK + "made from the title; the name identifies the servable in the registry")


def _version(facts: Facts, draft: Draft) -> None:
    if not facts.version:
        return
    try:
        draft.data["version"] = str(parse_version(facts.version))
    except UsageError:
        draft.header.append(CHECK + f"version {facts.version!r} is not a semantic version; set `version: X.Y.Z`")


def _creators(people: tuple[Person, ...], draft: Draft) -> None:
    out: list[Any] = []
    for person in people:
        family, given = person.family.strip(), (person.given or "").strip()
        if not family:
            draft.header.append(CHECK + f"a creator without a family name ({person.given!r}) was left out")
            continue
        orcid = person.orcid if person.orcid and bare_orcid(person.orcid) and orcid_checksum_ok(person.orcid) \
            else None
        if person.orcid and not orcid:
            draft.header.append(CHECK + f"ORCID {person.orcid!r} of {family} is not a valid iD and was left out")
        if not given:
            draft.note(("creators", len(out)), CHECK + "no given name in the source; add `given:` for a person")
        out.append(_creator(family, given, orcid, [a.strip() for a in person.affiliations if a.strip()]))
    if not out:
        out = [{"family": "Unknown"}]
        draft.note(("creators",), FILL + "the source names no creators; list them as \"Family, Given\"")
    draft.data["creators"] = out


def _creator(family: str, given: str, orcid: str | None, affiliations: list[str]) -> Any:
    """`"Family, Given"` when that reads back the same and nothing else is known, else an object."""
    display = f"{family}, {given}"
    plain = given and split_name(display) == (family, given)
    if plain and not orcid and not affiliations:
        return display
    item: dict[str, Any] = {"name": display} if plain else {"family": family}
    if given and not plain:
        item["given"] = given
    if orcid:
        item["orcid"] = orcid
    if affiliations:
        item["affiliations"] = affiliations
    return item


def _license(license_expr: str | None, draft: Draft) -> None:
    if not license_expr:
        draft.header.append(FILL + "no license in the source; add `license:` with an SPDX identifier such as MIT")
        return
    if spdx_problem(license_expr) is None:
        draft.data["license"] = license_expr
    else:
        draft.header.append(CHECK + f"license {license_expr!r} is not an SPDX identifier; set `license:`")


def _related(related: tuple[Related, ...], draft: Draft) -> None:
    schema = manifest_schema(1)["$defs"]["related"]["properties"]
    kinds, relations = set(schema["type"]["enum"]), set(schema["relation"]["enum"])
    out: list[dict[str, str]] = []
    for item in related:
        if item.kind not in kinds or item.relation not in relations:
            draft.header.append(CHECK + f"related {item.kind} {item.identifier} ({item.relation}) has no manifest "
                                "form and was left out")
            continue
        if item.kind == "DOI" and doi_problem(item.identifier):
            draft.header.append(CHECK + f"related DOI {item.identifier!r} is not a bare DOI and was left out")
            continue
        entry = {"doi": item.identifier} if item.kind == "DOI" else {"identifier": item.identifier,
                                                                     "type": item.kind}
        out.append({**entry, "relation": item.relation})
    if out:
        draft.data["related"] = out


def _funding(funder: str, award: str | None, title: str | None) -> dict[str, str]:
    out = {"funder": funder}
    if award:
        out["award"] = str(award)
    if title:
        out["award_title"] = title
    return out


def _unheld(facts: Facts, draft: Draft) -> None:
    """Facts of a published version that a manifest does not hold: said in the header, with where they go."""
    if facts.doi:
        draft.header.append(f"the source's own DOI is {facts.doi}: pass `--doi {facts.doi}` to `export`")
    if facts.repository:
        where = facts.repository + (f" at {facts.commit}" if facts.commit else "")
        draft.header.append(f"the source names the repository {where}: publish from it with "
                            "`dlhub-manifest publish --repo`")
