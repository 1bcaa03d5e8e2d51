"""What every inspector receives (`InspectContext`) and returns (`Inspection`), and shared failure reporting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.build.inspect.runner import DEFAULT_TIMEOUT, MODULES_KEY, ProbeFailed, run_probe
from dlhub_manifest.manifest.diagnostics import Diagnostic, FieldPath
from dlhub_manifest.manifest.load import Document

Method = dict[str, Any]


@dataclass(frozen=True)
class Framework:
    """The package a servable type needs to be inspected, and the extra that installs it."""

    module: str
    label: str
    extra: str


@dataclass
class InspectContext:
    """The manifest as one inspector sees it: options, declared methods, and whether to load the model."""

    doc: Document
    options: dict[str, Any]
    declared: dict[str, Method]
    inspect: bool = True
    timeout: float = DEFAULT_TIMEOUT
    cache: bool = False  # reuse a probe result remembered for unchanged inputs (publish turns it on)

    @property
    def project(self) -> Path:
        return self.doc.project_dir

    def problem(self, path: FieldPath, message: str, hint: str | None = None, *, warning: bool = False) -> Diagnostic:
        """A diagnostic at `path` (relative to `servable.options` when it does not start with a top-level key)."""
        full = path if path and path[0] in ("servable", "dependencies", "files") else ("servable", "options", *path)
        diag = self.doc.diagnostic(full, message, hint)
        if warning:
            diag = Diagnostic(diag.file, diag.line, diag.column, diag.path, diag.message, diag.hint, "warning")
        return diag


@dataclass
class Inspection:
    """What an inspector found: the servable's own fields, its methods, files by role and pinned packages, and
    the project modules loading the model imported (`modules`, project-relative paths)."""

    model_type: str | None = None
    model_summary: str | None = None
    methods: dict[str, Method] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    dependencies: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inspector:
    """One servable type: DLHub's shim and human-readable type, and the function that inspects it."""

    shim: str
    label: str
    inspect: Callable[[InspectContext], Inspection]


def sandboxed(ctx: InspectContext, out: Inspection, name: str, args: dict[str, Any], where: FieldPath,
          framework: Framework, fallback: str) -> dict[str, Any] | None:
    """Run probe `name`; on failure add a diagnostic at `where` and return None.

    `fallback` tells the user what to declare in the manifest instead when inspection cannot run.
    """
    try:
        facts = run_probe(name, args, ctx.project, ctx.timeout, cache=ctx.cache)
    except ProbeFailed as e:
        out.diagnostics.append(_failure(ctx, e, where, framework, fallback))
        return None
    out.modules = sorted({*out.modules, *facts.pop(MODULES_KEY, [])})
    return facts


def _failure(ctx: InspectContext, e: ProbeFailed, where: FieldPath, framework: Framework,
             fallback: str) -> Diagnostic:
    no_inspect = f"or build with --no-inspect and declare {fallback}"
    if e.missing and e.missing.split(".")[0] == framework.module:
        return ctx.problem(where, f"{framework.label} is not installed, so the model cannot be inspected",
                           f"pip install 'dlhub-manifest[{framework.extra}]', {no_inspect}")
    if e.missing:
        return ctx.problem(where, f"loading needs the Python module {e.missing!r}, which is not installed "
                                  "and not in the project",
                           f"install it or add it to the project, {no_inspect}")
    if "did not finish within" in e.message:
        return ctx.problem(where, e.message, f"raise --timeout, {no_inspect}")
    return ctx.problem(where, f"inspection failed: {e.message}", f"check the file, {no_inspect}")


def base_version(version: str) -> str:
    """`2.13.0+cpu` -> `2.13.0`: a local build label cannot be installed from PyPI."""
    return version.split("+", 1)[0]
