"""`dlhub-manifest validate`: check manifests and report every problem, located."""

from __future__ import annotations

from pathlib import Path

import click

FORMATS = ["text", "json", "github", "sarif"]


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, readable=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text (compiler style), json, github (workflow annotations) or sarif (code scanning).")
@click.option("--no-files", is_flag=True, help="Skip checks that files named in the manifest exist.")
@click.option("--strict", is_flag=True,
              help="Citation files (CITATION.cff, .zenodo.json, codemeta.json) that disagree are errors, not warnings.")
def validate_command(paths: tuple[Path, ...], fmt: str, no_files: bool, strict: bool) -> int:
    """Validate dlhub.yaml files (or directories holding one); default ./dlhub.yaml.

    Every problem is reported at once with its file, line, column, field and a hint. A CITATION.cff,
    .zenodo.json or codemeta.json beside the manifest is cross-checked (title, creators, version, license).
    Exit status: 0 valid, 1 invalid, 2 usage error.

    Example: dlhub-manifest validate --format github examples/*/
    """
    from dlhub_manifest.manifest.render import RENDERERS
    from dlhub_manifest.manifest.validate import validate_path

    reports = []
    for path in paths or (Path("dlhub.yaml"),):
        doc, report = validate_path(path, check_files=not no_files)
        if doc is not None and report.ok and _has_citation_files(doc.project_dir):
            from dlhub_manifest.citation.crosscheck import crosscheck  # only when such a file exists (start-up)

            report.diagnostics.extend(crosscheck(doc, strict=strict))
        reports.append(report)
    output = RENDERERS[fmt](reports)
    if output:
        click.echo(output)
    return 0 if all(r.ok for r in reports) else 1


def _has_citation_files(folder: Path) -> bool:
    return any((folder / name).is_file() for name in ("CITATION.cff", ".zenodo.json", "codemeta.json"))
