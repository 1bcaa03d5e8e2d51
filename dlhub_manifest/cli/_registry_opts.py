"""Options every registry command shares: where the registry is, and how to print results."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from dlhub_manifest.targets.base import Target

F = TypeVar("F", bound=Callable[..., Any])


registry_option = click.option(
    "--registry", type=click.Path(file_okay=False, path_type=Path),
    help="Local registry folder (default: $DLHUB_MANIFEST_REGISTRY, else the user data dir).")

database_option = click.option(
    "--database", envvar="DLHUB_MANIFEST_DATABASE", metavar="URL",
    help="postgresql://USER@HOST:PORT/DB holding the registry's records (default: $DLHUB_MANIFEST_DATABASE, "
    "else the registry folder's SQLite file). The password comes from $PGPASSWORD or ~/.pgpass.")
blob_store_option = click.option("--blob-store", metavar="s3://BUCKET/PREFIX",
                                 help="Where the registry's blobs are, when not in its folder.")
endpoint_option = click.option("--s3-endpoint-url", metavar="URL",
                               help="The S3 endpoint (default: $AWS_ENDPOINT_URL, else AWS).")


def target_options(fn: F) -> F:
    """`--registry PATH` and `--target URL|NAME`: the local registry folder, or a registry over HTTP."""
    fn = click.option("--target", help="Registry URL or configured target name (default: the local registry).")(fn)
    return registry_option(fn)


def format_option(fn: F) -> F:
    """`--format text|json`."""
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                        help="text for people, json for scripts.")(fn)


def get_target(registry: Path | None, target: str | None) -> Target:
    """The target the options name (the local registry by default)."""
    from dlhub_manifest.targets import resolve_target

    return resolve_target(registry=registry, target=target)


def echo_json(value: Any) -> None:
    """Print `value` as indented, key-sorted JSON on stdout."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def short(sha256: str) -> str:
    """The first 12 hex digits of a digest, as git shows commits."""
    return sha256[:12]
