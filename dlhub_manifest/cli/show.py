"""`dlhub-manifest show`: one servable version: its document, files, versions and provenance."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, get_target, short, target_options
from dlhub_manifest.registry.contracts import ServableInfo


@click.command("show")
@click.argument("servable")
@target_options
@format_option
def show_command(servable: str, registry: Path | None, target: str | None, fmt: str) -> int:
    """Show OWNER/NAME[@VERSION] (default the latest version; OWNER defaults to you).

    SERVABLE is OWNER/NAME, NAME (your own), OWNER/NAME@VERSION or NAME@VERSION; an owner may be a
    Globus username such as alice@globusid.org.

    Example: dlhub-manifest show alice/iris-classifier@1.0.0 --format json
    """
    from dlhub_manifest.util.servable_ref import split_servable_ref

    ref = split_servable_ref(servable)  # a bad reference is a usage error before any request is made
    chosen = get_target(registry, target)
    owner = ref.owner or str(chosen.whoami()["username"])
    found = chosen.get_servable(owner, ref.name, ref.version)
    if fmt == "json":
        echo_json(found)
    else:
        click.echo("\n".join(render(found)))
    return 0


def render(found: ServableInfo) -> list[str]:
    """A version as text: summary, versions, provenance, methods and files."""
    from dlhub_manifest.registry.document import summary
    from dlhub_manifest.util.humanize import human_size

    document = found["document"]
    info = summary(document)
    lines = [f"{found['servable']}@{found['version']}: {info['title'] or ''}"]
    if info["description"]:
        lines.append(f"  description: {info['description']}")
    if info["creators"]:
        lines.append(f"  creators: {'; '.join(info['creators'])}")
    lines.append(f"  versions: {', '.join(found['versions'])} (latest {found['latest']})")
    provenance = found.get("provenance") or {}
    lines.append("  provenance: " + ", ".join(f"{k}={v}" for k, v in sorted(provenance.items())))
    methods = (document.get("servable") or {}).get("methods") or {}
    lines.append(f"  methods: {', '.join(sorted(methods)) or 'none'}")
    lines.append(f"  files ({len(found['files'])}):")
    lines += [f"    {human_size(f['size']):>10}  {short(f['sha256'])}  {f['path']}" for f in found["files"]]
    return lines
