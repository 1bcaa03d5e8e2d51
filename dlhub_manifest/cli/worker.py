"""`dlhub-manifest worker`: run publication tasks from a shared PostgreSQL queue, without an HTTP server."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import blob_store_option, database_option, endpoint_option


@click.command("worker")
@click.option("--registry", "registry", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Registry folder holding the blobs (shared with the servers).")
@database_option
@blob_store_option
@endpoint_option
@click.option("--lease", default=30.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds a claimed task stays this worker's without a heartbeat; after that another takes it.")
def worker_command(registry: Path, database: str | None, blob_store: str | None, s3_endpoint_url: str | None,
                   lease: float) -> int:
    """Run queued publications until stopped; start as many as the load needs, on any machine.

    Workers and `serve` processes on the same --database share one queue: each task is run by exactly one of
    them, and a task whose worker dies is taken over by another once its lease runs out. Without --database
    this is the registry folder's single worker.

    Example: dlhub-manifest worker --registry /srv/dlhub --database postgresql://dlhub@db:5432/dlhub
    """
    import logging

    from dlhub_manifest.registry.blobstore import BlobStoreConfig
    from dlhub_manifest.registry.records import verify_records
    from dlhub_manifest.registry.worker import FOREVER, run_worker
    from dlhub_manifest.util.logsafe import RedactingFilter

    root = registry.absolute()
    verify_records(root, database)  # a wrong URL or schema stops here, with its message
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker[%(process)d] %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    click.echo(f"worker for {root}" + (" on the shared database" if database else "") + " (Ctrl-C stops)", err=True)
    ran = run_worker(root, idle=FOREVER, lease_seconds=lease, database=database,
                     blobs=BlobStoreConfig(blob_store, s3_endpoint_url))
    click.echo(f"worker stopped after {ran} task(s)", err=True)
    return 0
