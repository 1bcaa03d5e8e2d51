"""`dlhub-manifest list`: the servables in a registry, with their latest version."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, get_target, target_options
from dlhub_manifest.registry.contracts import ServableSummary


@click.command("list")
@target_options
@format_option
def list_command(registry: Path | None, target: str | None, fmt: str) -> int:
    """List the servables you can see: OWNER/NAME, latest version, number of versions, title.

    Example: dlhub-manifest list --format json
    """
    items = get_target(registry, target).list_servables()
    if fmt == "json":
        echo_json(items)
    else:
        click.echo("\n".join(table(items)) if items else "no servables published yet")
    return 0


def table(items: list[ServableSummary]) -> list[str]:
    """Servable summaries as aligned text rows (shared with `search`)."""
    width = max(len(i["servable"]) for i in items)
    return [f"{i['servable']:<{width}}  {i['latest']:<10}  {len(i['versions'])} version(s)  {i.get('title') or ''}"
            for i in items]
