"""`dlhub-manifest serve`: the registry over HTTP for a lab or a CI pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dlhub_manifest.cli._registry_opts import database_option

if TYPE_CHECKING:
    from dlhub_manifest.registry.blobstore import BlobStoreConfig
    from dlhub_manifest.registry.quota import Quotas
    from dlhub_manifest.repository.policy import FetchPolicy
    from dlhub_manifest.server.app import WorkerSettings

SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """`512M`, `10G`, `1024` → bytes."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = value[-1] if value and value[-1] in SIZE_UNITS else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit():
        raise click.BadParameter(f"{text!r} is not a size such as 512M or 10G")
    return int(number) * SIZE_UNITS[unit]


@click.command("serve")
@click.option("--registry", "registry", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Registry folder (created if missing): the blobs, and the records unless --database is given.")
@database_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--tokens", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="YAML/JSON file mapping bearer tokens (or sha256:<hex> of them) to {id, username, groups}.")
@click.option("--globus-client-id", help="The server's Globus confidential client id for token introspection "
              "(secret in $DLHUB_MANIFEST_SERVER_CLIENT_SECRET).")
@click.option("--globus-scope", help="Scope clients must request (default: https://auth.globus.org/scopes/<id>/all).")
@click.option("--login-client-id", help="Globus native client id advertised to `dlhub-manifest login`.")
@click.option("--max-blob-size", default="10G", show_default=True, help="Largest blob accepted (e.g. 512M, 10G).")
@click.option("--no-worker", is_flag=True, help="Do not run the task worker beside the server.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Task workers to run.")
@click.option("--max-running-per-owner", default=1, show_default=True, type=click.IntRange(0, None),
              help="Tasks one owner may have running at once (0: no limit), so no one can hold every worker.")
@click.option("--task-deadline", default=1800.0, show_default=True, type=click.FloatRange(1, None),
              help="Seconds a publication task may run before it fails.")
@click.option("--allow-repository-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
              help="A forge that may be fetched even on a private address, and over plain http (repeatable).")
@click.option("--repository-ssh-key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Private key for ssh:// repository URLs (without one, only https is fetched).")
@click.option("--repository-timeout", default=300.0, show_default=True, type=click.FloatRange(1, None),
              help="Seconds a repository fetch may take.")
@click.option("--max-repository-size", default="2G", show_default=True,
              help="Largest repository fetch, and largest total of a commit's files.")
@click.option("--owner-quota", help="Bytes one owner's versions may use in all (e.g. 50G); default: no limit.")
@click.option("--max-pending-uploads", default="20G", show_default=True,
              help="Bytes one owner may have in unfinished uploads.")
@click.option("--upload-max-age", default=86400.0, show_default=True, type=click.FloatRange(0, None),
              help="Seconds after which an unfinished upload is removed.")
@click.option("--trusted-publishers", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="YAML file trusting OpenID Connect ID tokens (GitHub Actions) of listed repositories.")
@click.option("--blob-store", metavar="s3://BUCKET/PREFIX", help="Keep blobs in an S3-compatible object store "
              "(clients upload to it directly) instead of the registry folder.")
@click.option("--s3-endpoint-url", metavar="URL", help="The S3 endpoint (default: $AWS_ENDPOINT_URL, else AWS); "
              "credentials come from the standard AWS variables and files.")
@click.option("--multipart-threshold", default="64M", show_default=True,
              help="Direct uploads from this size up are sent as parallel parts.")
def serve_command(registry: Path, database: str | None, host: str, port: int, tokens: Path | None,
                  globus_client_id: str | None, globus_scope: str | None, login_client_id: str | None,
                  max_blob_size: str, no_worker: bool, **limits: Any) -> int:
    """Serve a registry over HTTP: the API (documented at /openapi.json), web pages (at /) and task workers.

    Clients publish with `--target http://HOST:PORT` and a bearer token from --tokens, Globus Auth or, from
    CI, an OpenID Connect ID token of a trusted publisher. See docs/http-registry.md before serving others.
    Several servers (and `dlhub-manifest worker` processes) can share one registry: give them the same
    --database and a --registry folder they all reach; run `dlhub-manifest registry upgrade` first
    (docs/deploy.md).
    With --blob-store s3://BUCKET/PREFIX the blobs live in object storage and clients send them there directly.

    Example: dlhub-manifest serve --registry ./registry --port 8000 --tokens tokens.yaml
    """
    from dlhub_manifest.server.app import Settings
    from dlhub_manifest.server.run import build_authenticator, globus_config, run

    globus = globus_config(globus_client_id, globus_scope, login_client_id)
    blob = parse_size(max_blob_size)
    settings = Settings(root=registry.absolute(), database=database,
                        authenticator=build_authenticator(tokens, globus, limits["trusted_publishers"]),
                        max_blob_size=blob, globus=globus.advertised() if globus else None,
                        fetch_policy=_policy(limits, blob), workers=_workers(limits), quotas=_quotas(limits),
                        web_login=globus.web_login() if globus else None, blob_store=_blob_store(limits))
    shared = " with its records in PostgreSQL" if database else ""
    click.echo(f"serving registry {settings.root}{shared} at http://{host}:{port} (Ctrl-C stops)", err=True)
    run(settings, host, port, worker=not no_worker)
    return 0


def _policy(limits: dict[str, Any], max_blob: int) -> FetchPolicy:
    from dlhub_manifest.repository.policy import FetchPolicy

    key = limits["repository_ssh_key"]
    return FetchPolicy(allow_hosts=tuple(h.strip().lower() for h in limits["allow_hosts"]),
                       ssh_key=str(key.absolute()) if key else None, timeout=limits["repository_timeout"],
                       max_bytes=parse_size(limits["max_repository_size"]), max_file_bytes=max_blob)


def _blob_store(limits: dict[str, Any]) -> BlobStoreConfig | None:
    """The S3 blob store the options name (None: the registry folder); a malformed URL is a usage error now."""
    from dlhub_manifest.registry.blobstore import BlobStoreConfig, parse_s3_url

    if limits["blob_store"] is None:
        return None
    parse_s3_url(limits["blob_store"])
    return BlobStoreConfig(limits["blob_store"], limits["s3_endpoint_url"], parse_size(limits["multipart_threshold"]))


def _workers(limits: dict[str, Any]) -> WorkerSettings:
    from dlhub_manifest.server.app import WorkerSettings

    per_owner = limits["max_running_per_owner"]
    return WorkerSettings(limits["workers"], per_owner or None, limits["task_deadline"])


def _quotas(limits: dict[str, Any]) -> Quotas:
    from dlhub_manifest.registry.quota import Quotas

    quota = limits["owner_quota"]
    return Quotas(parse_size(quota) if quota else None, parse_size(limits["max_pending_uploads"]),
                  limits["upload_max_age"])
