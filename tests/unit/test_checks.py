"""Semantic checks: ORCID check digits, DOIs, SPDX expressions, names, did-you-mean."""

from __future__ import annotations

import pytest

from dlhub_manifest.manifest.checks import doi_problem, orcid_checksum_ok, spdx_problem, split_name, suggest


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"])
def test_valid_orcids_from_orcid_documentation(orcid: str) -> None:
    assert orcid_checksum_ok(orcid)


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0098", "0000-0002-1694-2330"])
def test_wrong_check_digit(orcid: str) -> None:
    assert not orcid_checksum_ok(orcid)


def test_doi_forms() -> None:
    assert doi_problem("10.1000/xyz123") is None
    assert doi_problem("10.1103/PhysRevLett.116.061102") is None
    link = doi_problem("https://doi.org/10.1000/xyz123")
    assert link is not None and "10.1000/xyz123" in link[1]
    assert doi_problem("11.1000/xyz") is not None
    assert doi_problem("10.1000") is not None


@pytest.mark.parametrize("expr", ["MIT", "Apache-2.0", "MIT OR Apache-2.0", "(MIT AND BSD-3-Clause)",
                                  "GPL-2.0-or-later WITH Classpath-exception-2.0", "LicenseRef-Proprietary"])
def test_spdx_valid(expr: str) -> None:
    assert spdx_problem(expr) is None


@pytest.mark.parametrize(("expr", "fragment"), [
    ("mit", "'MIT'"), ("Apache 2.0", "'Apache-2.0'"), ("MIT OR", "ends with an operator"),
    ("(MIT", "unbalanced"), ("MIT Apache-2.0 OR", "missing AND/OR/WITH"), ("NotALicense-9", "not an SPDX"),
])
def test_spdx_invalid(expr: str, fragment: str) -> None:
    problem = spdx_problem(expr)
    assert problem is not None
    assert fragment in problem[0] + str(problem[1])


def test_split_name() -> None:
    assert split_name("Ward, Logan") == ("Ward", "Logan")
    assert split_name("van der Berg, Anna Maria") == ("van der Berg", "Anna Maria")
    assert split_name("Logan Ward") is None
    assert split_name("Ward,") is None
    assert split_name("a, b, c") is None


def test_suggest() -> None:
    assert suggest("serialisation", ["serialization", "model"]) == "serialization"
    assert suggest("CREATORS", ["creators", "title"]) == "creators"
    assert suggest("zzz", ["creators", "title"]) is None
