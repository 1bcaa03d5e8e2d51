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
def validate_command(paths: tuple[Path, ...], fmt: str, no_files: bool) -> int:
    """Validate dlhub.yaml files (or directories holding one); default ./dlhub.yaml.

    Every problem is reported at once with its file, line, column, field and a hint.
    Exit status: 0 valid, 1 invalid, 2 usage error.

    Example: dlhub-manifest validate --format github examples/*/
    """
    from dlhub_manifest.manifest.render import RENDERERS
    from dlhub_manifest.manifest.validate import validate_path

    reports = [validate_path(p, check_files=not no_files)[1] for p in (paths or (Path("dlhub.yaml"),))]
    output = RENDERERS[fmt](reports)
    if output:
        click.echo(output)
    return 0 if all(r.ok for r in reports) else 1
