"""`dlhub-manifest registry`: look after a registry (`check` verifies it, `upgrade` migrates its schema, `path`
shows where the local one is, `migrate` moves it to other storage)."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import (
    blob_store_option,
    database_option,
    echo_json,
    endpoint_option,
    format_option,
    registry_option,
)


@click.group("registry")
def registry_command() -> None:
    """Look after the local registry.

    Example: dlhub-manifest registry check
    """


@registry_command.command("check")
@registry_option
@database_option
@blob_store_option
@endpoint_option
@format_option
@click.option("--remove-uploads-older-than", "max_age", type=click.FloatRange(min=0), metavar="SECONDS",
              help="First remove unfinished uploads untouched for longer than this.")
def check_command(registry: Path | None, database: str | None, blob_store: str | None, s3_endpoint_url: str | None,
                  fmt: str, max_age: float | None) -> int:
    """Re-hash every blob and verify every record's references; exit 1 on a missing or corrupt blob.

    Blobs no version uses (left by an interrupted publish) and unfinished uploads are reported but are not errors.

    Example: dlhub-manifest registry check --format json
    """
    from dlhub_manifest.registry.blobstore import BlobStoreConfig, open_blob_store
    from dlhub_manifest.registry.check import check_registry
    from dlhub_manifest.server.uploads import UploadArea
    from dlhub_manifest.util.humanize import human_size
    from dlhub_manifest.util.locations import registry_path

    root = registry_path(registry)
    blobs = open_blob_store(root, BlobStoreConfig(blob_store, s3_endpoint_url))
    if max_age is not None:
        removed = UploadArea(root, blobs).clean(max_age)
        click.echo(f"removed {removed} unfinished upload(s) older than {max_age:g} s", err=True)
    report = check_registry(root, database=database, blobs=blobs)
    if fmt == "json":
        echo_json(report.to_dict())
        return 0 if report.ok else 1
    click.echo(f"registry at {report.root}: {report.versions} version(s), {report.blobs} blob(s) "
               f"({human_size(report.bytes)}) verified; {len(report.orphans)} unreferenced blob(s)")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for error in report.errors:
        click.echo(f"error: {error}")
    click.echo("ok" if report.ok else f"{len(report.errors)} error(s)")
    return 0 if report.ok else 1


@registry_command.command("upgrade")
@registry_option
@database_option
def upgrade_command(registry: Path | None, database: str | None) -> int:
    """Migrate the registry's schema to the version this dlhub-manifest knows (safe to run again).

    Run it once after installing a new dlhub-manifest, before starting its servers and workers: they refuse
    a PostgreSQL schema older or newer than they know. The embedded SQLite registry also upgrades itself.

    Example: dlhub-manifest registry upgrade --database postgresql://dlhub@db:5432/dlhub
    """
    from dlhub_manifest.registry.pg.connect import redacted
    from dlhub_manifest.registry.records import upgrade
    from dlhub_manifest.util.locations import registry_path

    root = registry_path(registry)
    before, after = upgrade(root, database)
    where = redacted(database) if database else str(root)
    if before == after:
        click.echo(f"registry schema of {where} is up to date (version {after})")
    else:
        click.echo(f"upgraded the registry schema of {where} from version {before} to {after}")
    return 0


@registry_command.command("path")
@registry_option
def path_command(registry: Path | None) -> int:
    """Print where the local registry lives.

    Example: dlhub-manifest registry path
    """
    from dlhub_manifest.util.locations import registry_path

    click.echo(str(registry_path(registry)))
    return 0


@registry_command.command("migrate")
@click.option("--from", "source", required=True, metavar="DIR|URL",
              help="The registry to copy from: its folder, or its postgresql://USER@HOST:PORT/DB.")
@click.option("--from-blob-store", metavar="s3://BUCKET/PREFIX", help="Where the source's blobs are, when not in "
              "its folder.")
@click.option("--to", "target", required=True, metavar="DIR|URL", help="The registry to copy into: a folder "
              "(created if missing), or a postgresql:// database set up by `registry upgrade` (needs --blob-store).")
@blob_store_option
@endpoint_option
@format_option
def migrate_command(source: str, from_blob_store: str | None, target: str, blob_store: str | None,
                    s3_endpoint_url: str | None, fmt: str) -> int:
    """Copy every blob, servable, version and task of a registry to other storage, verifying each blob's hash.

    Run it again to resume an interrupted migration: only what is still missing is copied. Records are copied
    once the destination holds every blob they use. Exit 1 when a blob could not be copied (the message says
    which and why).

    Example: dlhub-manifest registry migrate --from ./registry --to /srv/registry --blob-store s3://models/registry
    """
    from dlhub_manifest.registry.blobstore import BlobStoreConfig
    from dlhub_manifest.registry.migrate import Location, migrate
    from dlhub_manifest.util.humanize import human_size

    report = migrate(Location(source, BlobStoreConfig(from_blob_store, s3_endpoint_url)),
                     Location(target, BlobStoreConfig(blob_store, s3_endpoint_url)))
    if fmt == "json":
        echo_json(report.to_dict())
        return 0 if report.ok else 1
    click.echo(f"blobs: {report.blobs_copied} copied ({human_size(report.bytes_copied)}), {report.blobs_present} "
               f"already there; {report.servables} servable(s), {report.versions_added} version(s) and "
               f"{report.tasks_added} task(s) added")
    for error in report.errors:
        click.echo(f"error: {error}")
    click.echo("ok" if report.ok else f"{len(report.errors)} error(s): fix them and run the same command again")
    return 0 if report.ok else 1
