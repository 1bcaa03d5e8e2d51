"""`dlhub-manifest serve`: the registry over HTTP for a lab or a CI pipeline."""

from __future__ import annotations

from pathlib import Path

import click

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
              help="Registry folder (created if missing).")
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
def serve_command(registry: Path, host: str, port: int, tokens: Path | None, globus_client_id: str | None,
                  globus_scope: str | None, login_client_id: str | None, max_blob_size: str, no_worker: bool) -> int:
    """Serve a registry over HTTP (API documented at /openapi.json), with its task worker.

    Clients publish with `--target http://HOST:PORT` and a bearer token from --tokens or Globus Auth.

    Example: dlhub-manifest serve --registry ./registry --port 8000 --tokens tokens.yaml
    """
    from dlhub_manifest.server.app import Settings
    from dlhub_manifest.server.run import build_authenticator, globus_config, run

    globus = globus_config(globus_client_id, globus_scope, login_client_id)
    settings = Settings(root=registry.absolute(), authenticator=build_authenticator(tokens, globus),
                        max_blob_size=parse_size(max_blob_size), globus=globus.advertised() if globus else None)
    click.echo(f"serving registry {settings.root} at http://{host}:{port} (Ctrl-C stops)", err=True)
    run(settings, host, port, worker=not no_worker)
    return 0
