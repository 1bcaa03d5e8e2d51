"""`dlhub-manifest whoami`: the identity a registry sees for you, and which credentials were used."""

from __future__ import annotations

import json

import click


@click.command("whoami")
@click.option("--target", help="Registry URL or configured target name (default: the local registry).")
@click.option("--registry", help="Local registry folder (default: the user data dir).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def whoami_command(target: str | None, registry: str | None, fmt: str) -> int:
    """Show who you are to a registry (never the token itself).

    Example: dlhub-manifest whoami --target http://127.0.0.1:8000
    """
    from dlhub_manifest.targets import resolve_target

    info = resolve_target(registry=registry, target=target).whoami()
    if fmt == "json":
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return 0
    click.echo(f"{info.get('username')} ({info.get('id')})")
    for key in ("groups", "target", "registry", "credentials"):
        if info.get(key):
            value = info[key]
            click.echo(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    return 0
