"""`dlhub-manifest search`: servables whose metadata mentions every word of a query, best match first."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, get_target, target_options
from dlhub_manifest.registry.browse import MAX_LIMIT, SEARCH_LIMIT


@click.command("search")
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=SEARCH_LIMIT, show_default=True,
              help="Show at most this many results (the best ones).")
@target_options
@format_option
def search_command(text: str, limit: int, registry: Path | None, target: str | None, fmt: str) -> int:
    """Search title, name, keywords, creators, DOIs and description of the latest versions: every word must
    occur (inside a word too); title matches rank first.

    Example: dlhub-manifest search "iris Ward" --limit 10
    """
    from dlhub_manifest.cli.list import table

    items = get_target(registry, target).search(text, limit)
    if fmt == "json":
        echo_json(items)
    else:
        click.echo("\n".join(table(items)) if items else f"no servable matches {text!r}")
        if len(items) == limit:
            click.echo(f"(the best {limit}; --limit N shows more)", err=True)
    return 0
