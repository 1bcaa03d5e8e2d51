"""`dlhub-manifest search`: servables whose metadata mentions every word of a query."""

from __future__ import annotations

from pathlib import Path

import click

from ._registry_opts import echo_json, format_option, get_target, target_options


@click.command("search")
@click.argument("text")
@target_options
@format_option
def search_command(text: str, registry: Path | None, target: str | None, fmt: str) -> int:
    """Search title, description, creators, keywords and DOIs (latest versions; every word must match).

    Example: dlhub-manifest search "iris Ward"
    """
    from .list import table

    items = get_target(registry, target).search(text)
    if fmt == "json":
        echo_json(items)
    else:
        click.echo("\n".join(table(items)) if items else f"no servable matches {text!r}")
    return 0
