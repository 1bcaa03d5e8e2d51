"""`dlhub-manifest build`: validate a dlhub.yaml, then write the DLHub servable document (dlhub.json)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("build")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the document (default: dlhub.json next to the manifest; - for stdout).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: write the file and say where; json: print the document on stdout.")
@click.option("--no-inspect", is_flag=True,
              help="Do not load the model; use only what the manifest declares.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds allowed for loading and inspecting the model (in a subprocess).")
@click.option("--servable-version", help="Version to record when the manifest has no `version`.")
def build_command(path: Path, output: Path | None, fmt: str, no_inspect: bool, timeout: float,
                  servable_version: str | None) -> int:
    """Build the DLHub servable document from dlhub.yaml (PATH: the manifest or its folder; default .).

    The manifest is validated first (same diagnostics as `validate`); the model is inspected in a
    subprocess unless --no-inspect. The same project always gives a byte-identical dlhub.json.
    `-o -` prints the document on stdout instead of writing a file.
    Exit status: 0 built, 1 invalid manifest or failed inspection, 2 usage error (including an unusable -o).

    Example: dlhub-manifest build examples/sklearn -o dlhub.json
    """
    from dlhub_manifest.build import BuildOptions, build_report, dumps
    from dlhub_manifest.manifest.load import resolve_manifest_path
    from dlhub_manifest.manifest.render import render_text
    from dlhub_manifest.util.fsutil import atomic_write_bytes
    from dlhub_manifest.util.outputs import check_output_file, is_stdout, writing

    project = resolve_manifest_path(path).parent.resolve()
    to_stdout = is_stdout(output)
    target = None if to_stdout else output or (project / "dlhub.json" if fmt == "text" else None)
    if target is not None:
        check_output_file(target)
    options = BuildOptions(inspect=not no_inspect, version=servable_version, timeout=timeout,
                           leave_out=_inside(project, target))
    document, report = build_report(path, options)
    if report.diagnostics:
        click.echo(render_text([report]), err=True)
    if document is None:
        return 1
    if servable_version is None and not _manifest_version(path):
        click.echo(f"note: dlhub.yaml sets no `version`: the document says {document['dlhub']['version']}, the "
                   "version a first publication gets; `publish` gives later ones the next patch (set `version:` or "
                   "--servable-version to choose it)", err=True)
    data = dumps(document)
    if target is not None:
        with writing(target):
            atomic_write_bytes(target, data)
    if fmt == "json" or to_stdout:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        click.echo(f"wrote {target}")
    return 0


def _manifest_version(path: Path) -> str | None:
    """The manifest's own `version`, if it sets one."""
    from dlhub_manifest.manifest.load import load_file

    doc, _ = load_file(path)
    data = doc.data if doc is not None else None
    return str(data["version"]) if isinstance(data, dict) and data.get("version") else None


def _inside(project: Path, target: Path | None) -> tuple[str, ...]:
    """The output's path relative to the project when it lies inside it: it must never list itself."""
    if target is None:
        return ()
    try:
        return (target.resolve().relative_to(project).as_posix(),)
    except ValueError:
        return ()
