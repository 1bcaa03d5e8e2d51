"""`dlhub-manifest logout`: revoke and forget the stored token for an HTTP registry."""

from __future__ import annotations

import click


@click.command("logout")
@click.option("--target", required=True, help="Registry URL or the name of a target in the user config file.")
def logout_command(target: str) -> int:
    """Forget the login stored for a registry (Globus tokens are revoked first).

    Example: dlhub-manifest logout --target https://registry.example.org
    """
    from dlhub_manifest.credentials.login import logout
    from dlhub_manifest.credentials.userconfig import resolve_target_config

    click.echo(logout(resolve_target_config(target)))
    return 0
