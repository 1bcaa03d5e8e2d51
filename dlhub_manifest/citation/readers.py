"""The citation formats import reads, by kind: each turns a parsed document into facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlhub_manifest.citation import cff, codemeta, datacite, zenodo
from dlhub_manifest.citation.facts import Facts

READERS: dict[str, Callable[[dict[str, Any]], Facts]] = {
    "cff": cff.read, "zenodo": zenodo.read, "codemeta": codemeta.read, "datacite": datacite.read,
}
