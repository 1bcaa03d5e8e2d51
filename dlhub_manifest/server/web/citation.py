"""How a servable page cites the version it shows: BibTeX and CITATION.cff, rendered by the citation formats of
`dlhub-manifest export` from the published version (document, version, date, provenance), so a page and the CLI
cite a servable alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlhub_manifest.citation.facts import facts_from_published
from dlhub_manifest.citation.formats import render
from dlhub_manifest.errors import UsageError

# format -> (download file name, media type)
FORMATS = {"bibtex": ("citation.bib", "application/x-bibtex"), "cff": ("CITATION.cff", "application/yaml")}


def citation_text(found: Mapping[str, Any], fmt: str, url: str | None = None) -> str:
    """The citation of a published version (`get_servable`'s answer) as `bibtex` or `cff` (CITATION.cff 1.2.0);
    `url` is where the version can be read."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown citation format {fmt!r}; use one of: {', '.join(FORMATS)}")
    text, _lost = render(facts_from_published(found, url), fmt)  # what a format cannot hold is in `export`'s notes
    return text
