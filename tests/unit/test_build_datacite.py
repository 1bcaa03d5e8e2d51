"""The datacite block: creators, ORCID, related resources, license, subjects and funding."""

from __future__ import annotations

from dlhub_manifest.build.datacite import creator, datacite_block, funding, related, rights, subjects


def test_creator_from_family_given_string_like_dlhub_sdk() -> None:
    assert creator("Ward, Logan") == {"familyName": "Ward", "givenName": "Logan", "affiliations": [],
                                      "nameIdentifiers": []}


def test_creator_with_orcid_url_and_affiliations() -> None:
    entry = {"name": "Carberry, Josiah", "orcid": "https://orcid.org/0000-0002-1825-0097",
             "affiliations": ["Brown University"]}
    assert creator(entry) == {
        "familyName": "Carberry", "givenName": "Josiah", "affiliations": ["Brown University"],
        "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                             "nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"}]}


def test_creator_from_family_and_given_fields_and_family_only() -> None:
    assert creator({"family": "van Rossum", "given": "Guido"})["familyName"] == "van Rossum"
    assert creator({"family": "van Rossum", "given": "Guido"})["givenName"] == "Guido"
    assert "givenName" not in creator({"family": "Argonne National Laboratory"})


def test_related_doi_shorthand_and_explicit_identifier() -> None:
    assert related({"doi": "10.1000/xyz123"}) == {"relatedIdentifier": "10.1000/xyz123",
                                                  "relatedIdentifierType": "DOI", "relationType": "IsDescribedBy"}
    assert related({"identifier": "https://example.org/docs", "type": "URL", "relation": "IsDocumentedBy"}) == {
        "relatedIdentifier": "https://example.org/docs", "relatedIdentifierType": "URL",
        "relationType": "IsDocumentedBy"}


def test_rights_from_spdx_identifier_and_expression() -> None:
    assert rights("Apache-2.0") == [{"rights": "Apache-2.0", "rightsURI": "https://spdx.org/licenses/Apache-2.0.html"}]
    assert rights("MIT OR Apache-2.0") == [{"rights": "MIT OR Apache-2.0"}]
    assert rights(None) == []


def test_subjects_are_keywords_then_new_domains() -> None:
    data = {"keywords": ["iris", "classification"], "domains": ["biology", "iris"]}
    assert subjects(data) == [{"subject": "iris"}, {"subject": "classification"}, {"subject": "biology"}]


def test_funding_reference() -> None:
    assert funding({"funder": "U.S. Department of Energy", "award": "DE-AC02-06CH11357", "award_title": "ALCF"}) == {
        "funderName": "U.S. Department of Energy", "awardNumber": {"awardNumber": "DE-AC02-06CH11357"},
        "awardTitle": "ALCF"}
    assert funding({"funder": "NSF"}) == {"funderName": "NSF"}


def test_block_fields_that_follow_the_decisions() -> None:
    data = {"title": "T", "creators": ["A, B"], "description": "What it does.", "publication_year": 2024}
    block = datacite_block(data, "1.2.0")
    assert block["identifier"] == {"identifier": "10.datacite/placeholder", "identifierType": "DOI"}
    assert block["publicationYear"] == "2024"
    assert block["version"] == "1.2.0"
    assert block["resourceType"] == {"resourceTypeGeneral": "InteractiveResource"}
    assert block["descriptions"] == [{"description": "What it does.", "descriptionType": "Abstract"}]
    assert datacite_block({"title": "T", "creators": ["A, B"]}, "0.0.0")["publicationYear"] == ""
