"""`dlhub-manifest schema`: print the manifest JSON Schema (for editors and other validators)."""

from __future__ import annotations

import click


@click.command("schema")
@click.option("--version", "version", type=int, default=1, show_default=True, help="Manifest version.")
@click.option("--path", "show_path", is_flag=True, help="Print the schema's installed path instead.")
def schema_command(version: int, show_path: bool) -> int:
    """Print the JSON Schema of dlhub.yaml (manifest_version 1).

    Point your editor at it: `# yaml-language-server: $schema=<path>` as the manifest's first line.

    Example: dlhub-manifest schema > dlhub-manifest.schema.json
    """
    from dlhub_manifest.errors import UsageError
    from dlhub_manifest.util.resources import SUPPORTED_MANIFEST_VERSIONS, schema_path

    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise UsageError(f"no schema for manifest_version {version}; supported: "
                         + ", ".join(map(str, SUPPORTED_MANIFEST_VERSIONS)))
    path = schema_path(version)
    click.echo(str(path) if show_path else path.read_text(encoding="utf-8").rstrip("\n"))
    return 0
