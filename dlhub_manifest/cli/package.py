"""`dlhub-manifest package`: write the deterministic DLHub-style servable zip (dlhub.json + the selected files)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dlhub_manifest.errors import InvalidManifestError
    from dlhub_manifest.manifest.diagnostics import Report


@click.command("package")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("servable.zip"),
              show_default=True, help="Where to write the zip (replaced atomically); - for stdout.")
@click.option("--no-inspect", is_flag=True, help="Do not load the model; use only what the manifest declares.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: say what was written; json: {path, sha256, size} on stdout.")
def package_command(path: Path, output: Path, no_inspect: bool, fmt: str) -> int:
    """Package a servable as a zip with dlhub.json at its root (PATH: the manifest or its folder; default .).

    The manifest is validated and built first; the files are those `publish` would ship (manifest `files`,
    .gitignore-aware, plus the model and the manifest). The same project always gives a byte-identical zip.
    `-o -` writes the zip to stdout (not to a terminal) and the summary to stderr.
    Exit status: 0 written, 1 invalid manifest or unusable files, 2 usage error (including an unusable -o).

    Example: dlhub-manifest package examples/sklearn -o iris.zip
    """
    from dlhub_manifest.errors import InvalidManifestError
    from dlhub_manifest.manifest.render import render_text
    from dlhub_manifest.package.archive import package
    from dlhub_manifest.util.humanize import human_size
    from dlhub_manifest.util.outputs import is_stdout

    if is_stdout(output):
        _check_stdout_use(fmt)
    try:
        with _progress_bar() as progress, _destination(output) as target:
            sha256, size = package(path, target, inspect=not no_inspect, progress=progress)
    except InvalidManifestError as e:
        click.echo(render_text([_report(e)]), err=True)
        return 1
    if fmt == "json":
        click.echo(json.dumps({"path": str(output), "sha256": sha256, "size": size}, sort_keys=True))
    else:
        shown = "stdout" if is_stdout(output) else output
        click.echo(f"wrote {shown} ({human_size(size)}, sha256 {sha256})", err=is_stdout(output))
    return 0


def _check_stdout_use(fmt: str) -> None:
    """`-o -` owns stdout: no JSON summary beside it, and no binary zip sprayed over a terminal."""
    from dlhub_manifest.errors import UsageError

    if fmt == "json":
        raise UsageError("--format json and -o - would both write to stdout; write the zip to a file for JSON")
    if sys.stdout.isatty():
        raise UsageError("refusing to write a zip to a terminal; redirect stdout (-o - > servable.zip) or use -o FILE")


@contextlib.contextmanager
def _destination(output: Path) -> Iterator[Path]:
    """The path to package into: `output`, or for `-` a temporary zip copied to stdout once it is complete."""
    import shutil
    import tempfile

    from dlhub_manifest.util.outputs import is_stdout

    if not is_stdout(output):
        yield output
        return
    with tempfile.TemporaryDirectory(prefix="dlhub-package-") as tmp:
        target = Path(tmp) / "servable.zip"
        yield target
        with open(target, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def _report(error: InvalidManifestError) -> Report:
    """The diagnostics of an invalid manifest as a Report, so they render like `validate` and `build`."""
    from dlhub_manifest.manifest.diagnostics import Report

    diagnostics = error.diagnostics
    return Report(diagnostics[0].file if diagnostics else "dlhub.yaml", list(diagnostics))


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A byte progress bar on stderr when it is a terminal; nothing in pipes and CI logs."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1, label="packaging", file=sys.stderr, show_pos=False) as bar:
        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        yield update
