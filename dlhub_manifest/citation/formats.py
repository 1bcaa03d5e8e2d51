"""The citation formats by name (`export --to NAME`): how each renders facts to text, and the file it usually is."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from dlhub_manifest.citation import bibtex, cff, codemeta, datacite, zenodo
from dlhub_manifest.citation.common import Lost
from dlhub_manifest.citation.facts import Facts


@dataclass(frozen=True)
class Format:
    """One export format: render facts to text (noting what is lost) and the file name it conventionally has."""

    render: Callable[[Facts, Lost], str]
    filename: str


def _json(write: Callable[[Facts, Lost], dict[str, Any]]) -> Callable[[Facts, Lost], str]:
    return lambda facts, lost: json.dumps(write(facts, lost), indent=2, ensure_ascii=False) + "\n"


def _cff(facts: Facts, lost: Lost) -> str:
    return str(yaml.safe_dump(cff.write(facts, lost), sort_keys=False, allow_unicode=True, width=10**6))


def _datacite_xml(facts: Facts, lost: Lost) -> str:
    text = datacite.to_xml(datacite.write(facts, lost))
    return text if text.endswith("\n") else text + "\n"


FORMATS: dict[str, Format] = {
    "cff": Format(_cff, "CITATION.cff"),
    "zenodo": Format(_json(zenodo.write), ".zenodo.json"),
    "codemeta": Format(_json(codemeta.write), "codemeta.json"),
    "datacite-json": Format(_json(datacite.write), "datacite.json"),
    "datacite-xml": Format(_datacite_xml, "datacite.xml"),
    "bibtex": Format(bibtex.render, "CITATION.bib"),
}


def render(facts: Facts, fmt: str) -> tuple[str, list[str]]:
    """`facts` in format `fmt`, and the notes of what that format could not hold."""
    lost = Lost()
    return FORMATS[fmt].render(facts, lost), lost.notes
