"""`export`: each format validates against its published schema, says what it cannot hold, and parses back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import bibtexparser
import jsonschema
import pytest
import yaml
from citation_support import SCHEMAS, rich_project
from click.testing import CliRunner
from lxml import etree

from dlhub_manifest.citation.export import ExportRequest, export
from dlhub_manifest.cli import cli


def _export(project: Path, fmt: str, **kw: Any) -> tuple[str, list[str]]:
    out = export(ExportRequest(str(project), fmt, **kw))
    return out.text, out.lost


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return rich_project(tmp_path / "proj")


def test_cff_validates_against_the_cff_1_2_0_schema(project: Path) -> None:
    text, lost = _export(project, "cff")
    data = yaml.safe_load(text)
    schema = json.loads((SCHEMAS / "cff-1.2.0.schema.json").read_text("utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    assert data["authors"][0] == {"family-names": "Carberry", "given-names": "Josiah",
                                  "orcid": "https://orcid.org/0000-0002-1825-0097",
                                  "affiliation": "Brown University; Wesleyan University"}
    assert data["identifiers"][0] == {"type": "doi", "value": "10.1000/xyz123",
                                      "description": "IsDescribedBy: related resource"}
    assert any(note.startswith("funding:") for note in lost)
    assert any(note.startswith("publication_year:") for note in lost)


def test_zenodo_validates_against_the_documented_deposit_fields(project: Path) -> None:
    text, lost = _export(project, "zenodo")
    data = json.loads(text)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "zenodo-deposit.schema.json").read_text("utf-8"))) \
        .validate(data)
    assert data["related_identifiers"] == [
        {"identifier": "10.1000/xyz123", "relation": "isDescribedBy", "scheme": "doi"},
        {"identifier": "https://example.org/data", "relation": "isDerivedFrom", "scheme": "url"}]
    assert data["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert any("grants" in note for note in lost)


def test_datacite_json_validates_against_the_datacite_4_5_schema(project: Path) -> None:
    from datacite import schema45

    text, lost = _export(project, "datacite-json", doi="10.5281/zenodo.1234")
    data = json.loads(text)
    assert [e.message for e in schema45.validator.iter_errors(data)] == []
    assert data["doi"] == "10.5281/zenodo.1234" and data["publicationYear"] == "2024"
    assert data["fundingReferences"] == [{"funderName": "U.S. Department of Energy",
                                          "awardNumber": "DE-AC02-06CH11357", "awardTitle": "Materials Data Facility"}]
    assert lost == []


def test_datacite_xml_validates_against_the_datacite_kernel_xsd(project: Path) -> None:
    text, _ = _export(project, "datacite-xml", doi="10.5281/zenodo.1234")
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / "datacite-kernel-4.6" / "metadata.xsd")))
    root = etree.fromstring(text.encode("utf-8"))
    assert xsd.validate(root), xsd.error_log
    ns = {"d": "http://datacite.org/schema/kernel-4"}
    assert root.findtext("d:identifier", namespaces=ns) == "10.5281/zenodo.1234"
    assert [e.get("relationType") for e in root.findall("d:relatedIdentifiers/d:relatedIdentifier", ns)] == [
        "IsDescribedBy", "IsDerivedFrom"]


def test_datacite_without_a_doi_says_so_and_misses_only_the_identifier(project: Path) -> None:
    text, lost = _export(project, "datacite-xml")
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / "datacite-kernel-4.6" / "metadata.xsd")))
    assert not xsd.validate(etree.fromstring(text.encode("utf-8")))
    assert all("identifier" in str(e.message) for e in xsd.error_log)
    assert any(note.startswith("identifier: no DOI") for note in lost)


def test_codemeta_expands_with_the_codemeta_3_context(project: Path) -> None:
    from pyld import jsonld

    text, lost = _export(project, "codemeta")
    data = json.loads(text)
    context = json.loads((SCHEMAS / "codemeta-3.0.jsonld").read_text("utf-8"))

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        assert url == "https://w3id.org/codemeta/3.0", url  # offline: only the CodeMeta context is known
        return {"contextUrl": None, "documentUrl": url, "document": context}

    expanded = jsonld.expand(data, {"documentLoader": loader})[0]
    schema, terms = "http://schema.org/", "https://codemeta.github.io/terms/"
    kept = {key.removeprefix(schema).removeprefix(terms) for key in expanded if key.startswith((schema, terms))}
    assert kept == {k for k in data if not k.startswith("@")}  # every term is defined by the context
    author = expanded[schema + "author"][0]["@list"][0] if "@list" in expanded[schema + "author"][0] else \
        expanded[schema + "author"][0]
    assert author["@id"] == "https://orcid.org/0000-0002-1825-0097"
    assert expanded[terms + "referencePublication"][0]["@id"] == "https://doi.org/10.1000/xyz123"
    assert any("relatedLink" in note for note in lost)


def test_bibtex_parses_with_bibtexparser_and_escapes_latex(project: Path) -> None:
    text, lost = _export(project, "bibtex")
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    (entry,) = library.entries
    assert (entry.entry_type, entry.key) == ("software", "iris_classifier_2024")
    fields = {f.key: f.value for f in entry.fields}
    assert fields["author"] == "Carberry, Josiah and Ward, Logan"
    assert fields["title"] == r"{Iris species classifier: 100\% \{braces\} \& under\_scores}"
    assert (fields["year"], fields["version"]) == ("2024", "1.2.0")
    assert any("ORCID" in note for note in lost)


def test_cli_writes_atomically_and_says_what_is_lost_once_on_stderr(project: Path) -> None:
    out = project / "CITATION.cff"
    result = CliRunner().invoke(cli, ["export", str(project), "--to", "cff", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text("utf-8"))["title"].startswith("Iris species")
    assert result.stderr.count("note: cff: funding:") == 1
    assert result.stdout == ""


def test_cli_refuses_an_invalid_manifest_with_located_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "dlhub.yaml").write_text("manifest_version: 1\nname: x\ntitle: 5\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--to", "bibtex", "-o", str(tmp_path / "c.bib")])
    assert result.exit_code == 1
    assert "dlhub.yaml:3:1: title: 5 is not a string" in result.stderr
    assert not (tmp_path / "c.bib").exists()


def test_check_reports_a_diff_and_the_fixing_command(project: Path) -> None:
    target = project / "CITATION.cff"
    target.write_text("cff-version: 1.2.0\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", str(project), "--to", "cff", "--check", str(target)])
    assert result.exit_code == 1
    assert "+title: 'Iris species classifier" in result.stdout
    assert f"export --to cff -o {target}" in result.stderr


def test_bibtex_round_trip_decodes_to_the_manifest_facts(project: Path) -> None:
    from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

    from dlhub_manifest.citation.export import project_facts

    facts = project_facts(project)
    library = bibtexparser.parse_string(_export(project, "bibtex")[0], append_middleware=[
        SeparateCoAuthors(), LatexDecodingMiddleware()])
    fields = {f.key: f.value for f in library.entries[0].fields}
    assert fields["title"].strip("{}") == facts.title
    assert fields["author"] == [p.display for p in facts.creators]
    assert (fields["year"], fields["version"], fields["abstract"]) == (str(facts.year), facts.version,
                                                                       facts.description)
    assert fields["keywords"].split(", ") == list(facts.subjects)


def test_datacite_xml_round_trip_holds_every_manifest_fact(project: Path) -> None:
    from dlhub_manifest.citation.export import project_facts

    facts = project_facts(project)
    root = etree.fromstring(_export(project, "datacite-xml", doi="10.5281/zenodo.1234")[0].encode("utf-8"))
    ns = {"d": "http://datacite.org/schema/kernel-4"}

    def texts(path: str) -> list[str]:
        return [e.text or "" for e in root.findall(path, ns)]

    assert texts("d:titles/d:title") == [facts.title]
    assert texts("d:creators/d:creator/d:creatorName") == [p.display for p in facts.creators]
    assert texts("d:creators/d:creator/d:affiliation") == [a for p in facts.creators for a in p.affiliations]
    assert texts("d:creators/d:creator/d:nameIdentifier") == [f"https://orcid.org/{p.orcid}" for p in facts.creators
                                                              if p.orcid]
    assert texts("d:subjects/d:subject") == list(facts.subjects)
    assert [(e.text, e.get("relatedIdentifierType"), e.get("relationType")) for e in
            root.findall("d:relatedIdentifiers/d:relatedIdentifier", ns)] == [
        (r.identifier, r.kind, r.relation) for r in facts.related]
    assert texts("d:fundingReferences/d:fundingReference/d:funderName") == [f.funder for f in facts.funding]
    assert texts("d:fundingReferences/d:fundingReference/d:awardNumber") == [f.award for f in facts.funding]
    assert (texts("d:version"), texts("d:publicationYear"), root.find("d:rightsList/d:rights", ns).get(
        "rightsIdentifier")) == ([facts.version], [str(facts.year)], facts.license)
