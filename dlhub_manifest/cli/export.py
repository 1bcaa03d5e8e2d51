"""`dlhub-manifest export`: a servable's citation as CFF, Zenodo, CodeMeta, DataCite (JSON or XML) or BibTeX."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import target_options

FORMAT_NAMES = ["cff", "zenodo", "codemeta", "datacite-json", "datacite-xml", "bibtex"]


@click.command("export")
@click.argument("source", required=False, default=".")
@click.option("--to", "fmt", type=click.Choice(FORMAT_NAMES), required=True, help="The citation format to write.")
@click.option("-o", "--output", default="-", show_default=True,
              help="File to write (atomically), or - for stdout.")
@click.option("--check", "check", type=click.Path(dir_okay=False, path_type=Path),
              help="Write nothing: exit 1 with a diff when this file differs from the export (for CI).")
@click.option("--version", "version", help="Version to cite instead of the manifest's (e.g. the release tag's).")
@click.option("--doi", help="DOI to cite (one you reserved), for formats that hold the work's own DOI.")
@target_options
def export_command(source: str, fmt: str, output: str, check: Path | None, version: str | None, doi: str | None,
                   registry: Path | None, target: str | None) -> int:
    """Export the citation of a project (PATH, default .) or a published version (OWNER/NAME[@VERSION]).

    A published version brings its version, publication date, repository and commit. What the format
    cannot hold is said once on stderr. Exit status: 0 written (or in step with --check), 1 invalid
    manifest or out of step, 2 usage error.

    Example: dlhub-manifest export --to cff -o CITATION.cff
    """
    from dlhub_manifest.citation.export import ExportRequest, export
    from dlhub_manifest.errors import InvalidManifestError
    from dlhub_manifest.manifest.diagnostics import Report
    from dlhub_manifest.manifest.render import render_text
    from dlhub_manifest.util.outputs import check_output_file

    if check is None:
        check_output_file(output, create_folders=False)  # before a published version is fetched
    request = ExportRequest(source, fmt, version, doi, registry, target)
    try:
        exported = export(request)
    except InvalidManifestError as e:
        click.echo(render_text([Report(source, e.diagnostics)]), err=True)
        return 1
    for note in exported.lost:
        click.echo(f"note: {fmt}: {note}", err=True)
    if check is not None:
        return _check(check, exported.text, fmt)
    _write(output, exported.text)
    return 0


def _write(output: str, text: str) -> None:
    from dlhub_manifest.util.fsutil import atomic_write_text
    from dlhub_manifest.util.outputs import is_stdout, writing

    if is_stdout(output):
        click.echo(text, nl=False)
        return
    with writing(output):
        atomic_write_text(output, text)
    click.echo(f"wrote {output}", err=True)


def _check(path: Path, text: str, fmt: str) -> int:
    """Compare `path` with the export: 0 when equal, else 1 and a unified diff on stdout."""
    import difflib

    try:
        current = path.read_text(encoding="utf-8")
    except OSError as e:
        click.echo(f"error: {path}: cannot read ({e.strerror or e}); write it with "
                   f"`dlhub-manifest export --to {fmt} -o {path}`", err=True)
        return 1
    if current == text:
        click.echo(f"{path} is in step with dlhub.yaml", err=True)
        return 0
    diff = difflib.unified_diff(current.splitlines(True), text.splitlines(True), str(path), f"export --to {fmt}")
    click.echo("".join(diff), nl=False)
    click.echo(f"error: {path} is out of step with dlhub.yaml; fix it with "
               f"`dlhub-manifest export --to {fmt} -o {path}`", err=True)
    return 1
