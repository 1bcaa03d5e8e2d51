"""`dlhub-manifest import`: write a dlhub.yaml from a dlhub_sdk document or a citation file."""

from __future__ import annotations

from pathlib import Path

import click

KINDS = ["dlhub_sdk", "cff", "zenodo", "codemeta", "datacite"]


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", default="dlhub.yaml", show_default=True,
              help="Manifest to write (atomically), or - for stdout.")
@click.option("--from", "kind", type=click.Choice(KINDS),
              help="Kind of FILE (default: guessed from its name and fields).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def import_command(file: Path, output: str, kind: str | None, force: bool) -> int:
    """Write a dlhub.yaml from FILE: a dlhub_sdk servable document (dlhub.json, or the DLHub service's answer),
    CITATION.cff, .zenodo.json, codemeta.json or DataCite JSON.

    Values to check or complete are marked with CHECK / FILL IN comments; model files are looked for in
    the output's folder. Bad input is reported like `validate` does and nothing is written.
    Exit status: 0 written, 1 unreadable or invalid FILE, 2 usage error.

    Example: dlhub-manifest import dlhub.json -o dlhub.yaml
    """
    from dlhub_manifest.citation.importers import import_file
    from dlhub_manifest.errors import InvalidManifestError, UsageError
    from dlhub_manifest.manifest.diagnostics import Report
    from dlhub_manifest.manifest.render import render_text
    from dlhub_manifest.util.fsutil import atomic_write_text
    from dlhub_manifest.util.outputs import check_output_file, is_stdout, writing

    target = None if is_stdout(output) else Path(output)
    check_output_file(output, create_folders=False)
    if target is not None and target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to replace it or -o to write elsewhere")
    project = target.resolve().parent if target is not None else Path.cwd()
    try:
        imported = import_file(file, project, kind)
    except InvalidManifestError as e:
        click.echo(render_text([Report(str(file), e.diagnostics)]), err=True)
        return 1
    if target is None:
        click.echo(imported.text, nl=False)
        return 0
    with writing(target):
        atomic_write_text(target, imported.text)
    click.echo(f"wrote {target} from {imported.kind} document {file}: {imported.attention} value(s) to check or "
               "fill in (marked CHECK / FILL IN)", err=True)
    return 0
