"""Cross-check the citation files beside a manifest (CITATION.cff, .zenodo.json, codemeta.json) against it.

A title, creator list, version or license that disagrees is a warning at the manifest's field naming the other
file and line (an error with `strict`); the hint is the `export` command that brings the file in step. A version
or license missing on one side is not a disagreement: the release tag may supply the version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dlhub_manifest.citation.facts import Facts, facts_from_manifest
from dlhub_manifest.citation.readers import READERS
from dlhub_manifest.citation.shapes import shape_problems
from dlhub_manifest.citation.sources import read_source
from dlhub_manifest.manifest.diagnostics import Diagnostic, Severity
from dlhub_manifest.manifest.load import Document

# file name -> (kind, export format, field of title / creators / version / license in that file)
CITATION_FILES: dict[str, tuple[str, str, dict[str, str]]] = {
    "CITATION.cff": ("cff", "cff", {"title": "title", "creators": "authors", "version": "version",
                                    "license": "license"}),
    ".zenodo.json": ("zenodo", "zenodo", {"title": "title", "creators": "creators", "version": "version",
                                          "license": "license"}),
    "codemeta.json": ("codemeta", "codemeta", {"title": "name", "creators": "author", "version": "version",
                                               "license": "license"}),
}
_COMPARED: dict[str, Callable[[Facts], Any]] = {
    "title": lambda f: f.title,
    "creators": lambda f: [p.display for p in f.creators],
    "version": lambda f: f.version,
    "license": lambda f: f.license,
}


def crosscheck(doc: Document, *, strict: bool = False) -> list[Diagnostic]:
    """Disagreements between a valid manifest and the citation files beside it."""
    ours = facts_from_manifest(doc.data)
    out: list[Diagnostic] = []
    for name, spec in CITATION_FILES.items():
        path = doc.project_dir / name
        if path.is_file():
            out.extend(_check_file(doc, ours, path.name, spec))
    severity: Severity = "error" if strict else "warning"
    return [replace(d, severity=severity) for d in out]


def _check_file(doc: Document, ours: Facts, name: str, spec: tuple[str, str, dict[str, str]]) -> Iterator[Diagnostic]:
    kind, fmt, fields = spec
    source, problems = read_source(doc.project_dir / name, kind)
    problems = problems or (shape_problems(source.doc, kind) if source else [])
    if source is None or problems or not isinstance(source.doc.data, dict):
        for problem in problems:
            yield replace(problem, file=name, hint=f"fix it, or rewrite it with `dlhub-manifest export --to {fmt} "
                          f"-o {name}`")
        return
    theirs = READERS[kind](source.doc.data)
    for fact, read in _COMPARED.items():
        mine, other = read(ours), read(theirs)
        if fact in ("version", "license") and (not mine or not other):
            continue
        if mine != other:
            line, column = source.doc.locate((fields[fact],))
            where = name + (f":{line}:{column}" if line else "")
            yield doc.diagnostic((fact,), f"{where} says {fact} {other!r} but {doc.file} says {mine!r}",
                                 f"bring {name} in step: dlhub-manifest export --to {fmt} -o {name}")
