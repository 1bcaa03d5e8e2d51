"""What `run` runs: a project folder (before publishing) or a published version, as a folder holding exactly
the servable's files, with its document and manifest.

A REF that names an existing folder or manifest file is a project (write `./name` to be explicit); anything
else is a servable reference `OWNER/NAME[@VERSION]` or `NAME[@VERSION]`. A project's files are linked into a
temporary folder, so a module the publication would lack is missing from the run too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.targets.base import Target
from dlhub_manifest.util.servable_ref import split_servable_ref


@dataclass
class Servable:
    """A runnable servable: its document, the folder of its files, how to name it, and its manifest's data
    (read from the folder's dlhub.yaml on first use when not given: only examples need it)."""

    document: dict[str, Any]
    folder: Path
    label: str
    given_manifest: dict[str, Any] | None = None

    @property
    def methods(self) -> dict[str, Any]:
        methods: dict[str, Any] = self.document["servable"]["methods"]
        return methods

    @property
    def manifest(self) -> dict[str, Any]:
        if self.given_manifest is None:
            self.given_manifest = _manifest(self.folder)
        return self.given_manifest


def is_project(ref: str) -> bool:
    """Whether REF names a project folder or manifest file rather than a published servable."""
    return Path(ref).exists()


@contextlib.contextmanager
def open_project(path: str | Path) -> Iterator[Servable]:
    """Build the project's document (inspection results are reused while the model is unchanged) and link the
    files it would publish into a temporary folder."""
    from dlhub_manifest.build import build_document
    from dlhub_manifest.publish.files import load_valid, shipped_files

    doc = load_valid(path)
    document = build_document(doc, cache=True)
    with staged(doc.project_dir, shipped_files(doc, document)) as folder:
        yield Servable(document, folder, str(path), doc.data)


@contextlib.contextmanager
def staged(project: Path, rels: list[str]) -> Iterator[Path]:
    """A temporary folder holding links to the project files `rels` and nothing else."""
    with tempfile.TemporaryDirectory(prefix="dlhub-run-") as tmp:
        for rel in rels:
            link = Path(tmp, *rel.split("/"))
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(project / rel, link)
        yield Path(tmp)


def open_published(ref: str, target: Target) -> Servable:
    """Fetch (or find in the cache) the files of a published version."""
    from dlhub_manifest.run.fetch import fetch_files

    parsed = split_servable_ref(ref)
    owner = parsed.owner or str(target.whoami()["username"])
    version = target.get_servable(owner, parsed.name, parsed.version)
    folder = fetch_files(target, version)
    return Servable(version["document"], folder, f"{version['servable']}@{version['version']}")


def _manifest(folder: Path) -> dict[str, Any]:
    """The servable's dlhub.yaml data (examples live there); loaded safely like any manifest."""
    from dlhub_manifest.manifest.load import load_file

    doc, problems = load_file(folder)
    if doc is None:
        raise InvalidManifestError(problems)
    data: dict[str, Any] = doc.data
    return data


@contextlib.contextmanager
def open_servable(ref: str, target: Target | None) -> Iterator[Servable]:
    """The servable REF names: a project folder, else a published servable in `target`."""
    if is_project(ref):
        with open_project(ref) as servable:
            yield servable
        return
    if target is None:
        from dlhub_manifest.targets import resolve_target

        target = resolve_target()
    yield open_published(ref, target)
