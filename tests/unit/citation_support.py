"""Shared by the citation tests (this module holds no tests): a manifest that uses every citation fact."""

from __future__ import annotations

from pathlib import Path

SCHEMAS = Path(__file__).resolve().parents[1] / "citation_schemas"

RICH = """\
manifest_version: 1
name: iris-classifier
title: "Iris species classifier: 100% {braces} & under_scores"
description: Logistic regression on the iris data set.
version: 1.2.0
creators:
  - name: "Carberry, Josiah"
    orcid: 0000-0002-1825-0097
    affiliations: [Brown University, Wesleyan University]
  - "Ward, Logan"
license: MIT
publication_year: 2024
keywords: [classification, iris]
domains: [botany]
related:
  - doi: 10.1000/xyz123
    relation: IsDescribedBy
  - identifier: https://example.org/data
    type: URL
    relation: IsDerivedFrom
funding:
  - funder: U.S. Department of Energy
    award: DE-AC02-06CH11357
    award_title: Materials Data Facility
servable:
  type: static_method
  options:
    function: app:run
"""


def rich_project(root: Path) -> Path:
    """A project holding the rich manifest and the module it names."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dlhub.yaml").write_text(RICH, encoding="utf-8")
    (root / "app.py").write_text("def run(x: list[float]) -> list[float]:\n    return x\n", encoding="utf-8")
    return root
