"""`dlhub-manifest login`: get and store (0600) a token for an HTTP registry."""

from __future__ import annotations

import sys

import click


@click.command("login")
@click.option("--target", required=True, help="Registry URL or the name of a target in the user config file.")
@click.option("--token-stdin", is_flag=True, help="Read a bearer token from standard input instead of Globus Auth "
              "(registries served with --tokens).")
@click.option("--no-browser", is_flag=True, help="Only print the Globus login URL (headless machines).")
def login_command(target: str, token_stdin: bool, no_browser: bool) -> int:
    """Log in to an HTTP registry: Globus Auth (paste the code back) or a token on stdin.

    Tokens are stored in the user config dir, readable only by you; they are never printed.

    Example: dlhub-manifest login --target https://registry.example.org
    """
    from dlhub_manifest.credentials.login import Credentials, bearer_authorizer, login_with_globus, login_with_token
    from dlhub_manifest.credentials.userconfig import resolve_target_config
    from dlhub_manifest.targets.http import HttpTarget

    config = resolve_target_config(target)
    if token_stdin or config.auth == "token":
        token = sys.stdin.read().strip()  # stdin, not argv: a token must not show in ps or shell history
        who = HttpTarget(config, credentials=Credentials(bearer_authorizer(token), "the token given")).whoami()
        login_with_token(config, token)
    else:
        info = HttpTarget(config).auth_info()
        login_with_globus(config, info, lambda url: _show_url(url, no_browser),
                          lambda: click.prompt("Paste the authorization code", hide_input=True, err=True))
        who = HttpTarget(config).whoami()
    click.echo(f"logged in to {config.url} as {who.get('username')}")
    return 0


def _show_url(url: str, no_browser: bool) -> None:
    click.echo(f"Open this URL, log in, and paste the code shown:\n\n  {url}\n", err=True)
    if not no_browser:
        import webbrowser

        webbrowser.open(url)
