"""Validation of a loaded manifest: the JSON Schema, then semantic checks; all problems at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dlhub_manifest.manifest.checks import (
    bare_orcid,
    doi_problem,
    orcid_checksum_ok,
    spdx_problem,
    split_name,
    suggest,
)
from dlhub_manifest.manifest.diagnostics import Diagnostic, FieldPath, Report
from dlhub_manifest.manifest.globs import GlobSet
from dlhub_manifest.manifest.load import Document, load_file
from dlhub_manifest.manifest.paths import PathProblem, check_relative, resolve_inside
from dlhub_manifest.manifest.schema_errors import schema_diagnostics
from dlhub_manifest.manifest.schema_fast import Check, Unsupported, compile_schema
from dlhub_manifest.manifest.serialization import SERIALIZED_OPTION, serialization_problem
from dlhub_manifest.util.resources import SUPPORTED_MANIFEST_VERSIONS, manifest_schema

# Option keys that name a path in the project, per servable type, and what they must be.
PATH_OPTIONS: dict[str, dict[str, str]] = {
    "sklearn": {"model": "file"},
    "class_method": {"object": "file"},
    "pytorch": {"model": "file"},
    "keras": {"model": "any"},
    "tensorflow": {"model": "dir"},
    "static_method": {},
}


@cache
def _validator(version: int) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(manifest_schema(version))
    return cls(manifest_schema(version), format_checker=cls.FORMAT_CHECKER)


@cache
def _fast_check(version: int) -> Check | None:
    """The compiled yes/no check (start-up speed: valid manifests skip importing jsonschema), if it applies."""
    try:
        return compile_schema(manifest_schema(version))
    except Unsupported:
        return None


def validate_path(path: str | Path, *, check_files: bool = True) -> tuple[Document | None, Report]:
    """Load and validate one manifest file (or a directory holding dlhub.yaml)."""
    doc, problems = load_file(path)
    report = Report(doc.file if doc else str(path), list(problems))
    if doc is not None:
        report.diagnostics.extend(validate_document(doc, check_files=check_files))
    return doc, report


def validate_document(doc: Document, *, check_files: bool = True) -> list[Diagnostic]:
    """Every problem in a loaded manifest; never raises on bad input."""
    data = doc.data
    if not isinstance(data, dict):
        return [doc.diagnostic((), f"a manifest is a mapping of fields, not {_kind(data)}",
                               "start with `manifest_version: 1` and `name: ...`")]
    version = data.get("manifest_version")
    if version not in SUPPORTED_MANIFEST_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(v) for v in SUPPORTED_MANIFEST_VERSIONS)
        if "manifest_version" not in data:
            return [doc.diagnostic((), "missing required field 'manifest_version'",
                                   f"add `manifest_version: 1` (supported: {supported})")]
        return [doc.diagnostic(("manifest_version",), f"{version!r} is not a supported manifest version",
                               f"this dlhub-manifest reads manifest_version {supported}")]
    schema = manifest_schema(int(version))
    fast = _fast_check(int(version))
    # Only a "valid" answer of the fast check is trusted; jsonschema explains (or overrules) the rest.
    valid = fast is not None and fast(data)
    diags = [] if valid else schema_diagnostics(doc, _validator(int(version)), schema)
    diags.extend(_semantic(doc, data, check_files))
    if not valid:
        seen = {(d.path, d.message) for d in diags}
        diags.extend(d for d in _as_probable_type(doc, data, check_files) if (d.path, d.message) not in seen)
    return sorted(set(diags), key=lambda d: (d.line or 0, d.column or 0, d.field, d.message))


def _as_probable_type(doc: Document, data: dict[str, Any], check_files: bool) -> list[Diagnostic]:
    """With an unknown `servable.type`, the rest of `servable` checked as the type it most likely means (said
    in each hint), so a typo in the type does not hide the other mistakes there."""
    servable = data.get("servable")
    kind = servable.get("type") if isinstance(servable, dict) else None
    guess = suggest(kind, PATH_OPTIONS) if isinstance(kind, str) and kind not in PATH_OPTIONS else None
    if guess is None or not isinstance(servable, dict):
        return []
    probe = dataclasses.replace(doc, data={**data, "servable": {**servable, "type": guess}})
    note = f"checked as servable type {guess!r}"
    return [dataclasses.replace(d, hint=f"{d.hint}; {note}" if d.hint else note)
            for d in validate_document(probe, check_files=check_files)
            if d.path[:1] == ("servable",) and d.path != ("servable", "type")]


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "empty"}.get(type(value), type(value).__name__)


def _semantic(doc: Document, data: dict[str, Any], check_files: bool) -> Iterator[Diagnostic]:
    version = data.get("version")
    if isinstance(version, str) and not version.isascii():
        yield _not_ascii(doc, ("version",), version, "1.2.0")
    yield from _check_creators(doc, data.get("creators"))
    yield from _check_related(doc, data.get("related"))
    lic = data.get("license")
    if isinstance(lic, str) and lic.strip():
        problem = spdx_problem(lic)
        if problem:
            yield doc.diagnostic(("license",), problem[0], problem[1])
    if check_files:
        yield from _check_paths(doc, data)


def _check_creators(doc: Document, creators: Any) -> Iterator[Diagnostic]:
    if not isinstance(creators, list):
        return
    for i, creator in enumerate(creators):
        if isinstance(creator, str):
            if split_name(creator) is None:
                yield doc.diagnostic(("creators", i), f"creator {creator!r} is not written as \"Family, Given\"",
                                     _name_hint(creator))
        elif isinstance(creator, dict):
            name = creator.get("name")
            if isinstance(name, str) and split_name(name) is None and "given" not in creator:
                yield doc.diagnostic(("creators", i, "name"), f"name {name!r} is not written as \"Family, Given\"",
                                     _name_hint(name))
            orcid = creator.get("orcid")
            if isinstance(orcid, str):
                yield from _check_orcid(doc, ("creators", i, "orcid"), orcid)


def _check_orcid(doc: Document, path: FieldPath, orcid: str) -> Iterator[Diagnostic]:
    if not orcid.isascii():
        yield _not_ascii(doc, path, orcid, "0000-0002-1825-0097")
        return
    bare = bare_orcid(orcid)
    if bare and not orcid_checksum_ok(bare):
        yield doc.diagnostic(path, f"ORCID {orcid!r} has a wrong check digit",
                             "copy the iD from the person's ORCID page; a digit is likely mistyped")


def _not_ascii(doc: Document, path: FieldPath, value: str, example: str) -> Diagnostic:
    # The schema's `\d` is Unicode-aware in Python: '1.2.1３' (a fullwidth 3) passes it, then reads as 1.2.13.
    return doc.diagnostic(path, f"{value!r} has characters outside ASCII (look-alike digits or letters?)",
                          f"type it with plain ASCII, e.g. {example}")


def _name_hint(name: str) -> str:
    words = name.split()
    if len(words) >= 2 and "," not in name:
        return f"write it as \"{words[-1]}, {' '.join(words[:-1])}\""
    return "use \"Family, Given\", or an object with `family` and `given`"


def _check_related(doc: Document, related: Any) -> Iterator[Diagnostic]:
    if not isinstance(related, list):
        return
    for i, item in enumerate(related):
        if not isinstance(item, dict):
            continue
        key = "doi" if "doi" in item else "identifier"
        value = item.get(key)
        is_doi = key == "doi" or item.get("type", "DOI") == "DOI"
        if isinstance(value, str) and is_doi:
            problem = doi_problem(value)
            if problem:
                yield doc.diagnostic(("related", i, key), *problem)


def _check_paths(doc: Document, data: dict[str, Any]) -> Iterator[Diagnostic]:
    servable = data.get("servable")
    if isinstance(servable, dict) and isinstance(servable.get("options"), dict):
        options = servable["options"]
        for key, kind in PATH_OPTIONS.get(str(servable.get("type")), {}).items():
            if isinstance(options.get(key), str):
                yield from _path_diag(doc, ("servable", "options", key), options[key], kind)
        yield from _check_serialization(doc, str(servable.get("type")), options)
        function = options.get("function")
        if servable.get("type") == "static_method" and isinstance(function, str) and ":" in function:
            yield from _check_module(doc, function.split(":", 1)[0])
    deps = data.get("dependencies")
    if isinstance(deps, dict) and isinstance(deps.get("requirements"), str):
        yield from _path_diag(doc, ("dependencies", "requirements"), deps["requirements"], "file")
    yield from _check_globs(doc, data.get("files"))


def _path_diag(doc: Document, path: tuple[str | int, ...], rel: str, kind: str) -> Iterator[Diagnostic]:
    try:
        resolve_inside(doc.project_dir, rel, kind)  # type: ignore[arg-type]
    except PathProblem as e:
        yield doc.diagnostic(path, e.message, e.hint)


def _check_serialization(doc: Document, kind: str, options: dict[str, Any]) -> Iterator[Diagnostic]:
    """A pickled file saved by the other library than `serialization` says (read from its header only)."""
    key = SERIALIZED_OPTION.get(kind)
    rel = options.get(key) if key else None
    if not isinstance(rel, str):
        return
    try:
        path = resolve_inside(doc.project_dir, rel, "file")
    except PathProblem:
        return  # already reported by the path check
    problem = serialization_problem(path, str(options.get("serialization", "pickle")))
    if problem:
        where = "serialization" if "serialization" in options else str(key)
        yield doc.diagnostic(("servable", "options", where), *problem)


def _check_module(doc: Document, module: str) -> Iterator[Diagnostic]:
    parts = module.split(".")
    candidates = ["/".join(parts) + ".py", "/".join(parts) + "/__init__.py"]
    for rel in candidates:
        try:
            resolve_inside(doc.project_dir, rel, "file")
            return
        except PathProblem:
            continue
    yield doc.diagnostic(("servable", "options", "function"),
                         f"module {module!r} is not in the project (looked for {' or '.join(candidates)})",
                         "the module path is relative to the folder holding dlhub.yaml")


def _check_globs(doc: Document, files: Any) -> Iterator[Diagnostic]:
    if isinstance(files, list):
        groups: list[tuple[tuple[str | int, ...], Any]] = [(("files",), files)]
    elif isinstance(files, dict):
        groups = [(("files", k), files.get(k)) for k in ("include", "exclude")]
    else:
        return
    exclude = files.get("exclude") if isinstance(files, dict) else None
    excludes = GlobSet(p for p in exclude if isinstance(p, str)) if isinstance(exclude, list) else None
    for base, patterns in groups:
        if not isinstance(patterns, list):
            continue
        for i, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                continue
            try:
                check_relative(pattern)
            except PathProblem as e:
                yield doc.diagnostic((*base, i), e.message, e.hint)
                continue
            if base[-1] != "exclude":
                yield from _glob_diags(doc, (*base, i), pattern, excludes)


def _glob_diags(doc: Document, path: FieldPath, pattern: str, excludes: GlobSet | None) -> Iterator[Diagnostic]:
    """A glob must select a file, and nothing it selects may leave the project or be unreadable or special."""
    # File selection's walk: glob.iglob followed symlink loops (`a -> .`, `b -> .`) for ever and out of the project.
    from dlhub_manifest.package.select import glob_matches

    count, problems = glob_matches(doc.project_dir, pattern, excludes)
    if not count and not problems:
        yield doc.diagnostic(path, f"{pattern!r} matches no file in the project",
                             "check the spelling; globs are relative to the folder holding dlhub.yaml")
    for problem in problems:
        yield doc.diagnostic(path, f"{pattern!r} selects a path that cannot be shipped: {problem}")

