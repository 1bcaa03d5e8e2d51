"""`dlhub-manifest github-action`: the publish step of action.yml (hidden: the action is its interface)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import click

from dlhub_manifest.errors import DLHubManifestError, InvalidManifestError


@click.command("github-action", hidden=True)
@click.option("--path", envvar="INPUT_PATH", default=".", show_default=True, help="Folder holding dlhub.yaml.")
@click.option("--target", envvar="INPUT_TARGET", default="", help="Registry URL (required unless --dry-run).")
@click.option("--version", "version", envvar="INPUT_VERSION", default="",
              help="Version to publish (default: from GITHUB_REF's tag, v1.2.0 -> 1.2.0).")
@click.option("--wait/--no-wait", envvar="INPUT_WAIT", default=True, show_default=True,
              help="Follow the task to its end.")
@click.option("--timeout", envvar="INPUT_TIMEOUT", type=click.FloatRange(min=0), default=600.0, show_default=True,
              help="Seconds to wait for the task.")
@click.option("--dry-run", envvar="INPUT_DRY_RUN", type=click.BOOL, default=False,
              help="Build and hash, but publish nothing and contact no registry.")
@click.option("--oidc-audience", envvar="INPUT_OIDC_AUDIENCE", default="dlhub-manifest", show_default=True,
              help="Audience of the job's ID token when publishing without a token secret (trusted publishing).")
@click.option("--examples/--no-examples", envvar="INPUT_EXAMPLES", default=True, show_default=True,
              help="Run the manifest's examples first (on pull requests too); a failing one fails the job.")
def github_action_command(path: str, target: str, version: str, wait: bool, timeout: float, dry_run: bool,
                          oidc_audience: str, examples: bool) -> int:
    """Publish from a GitHub Actions job and report to it: $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, annotations.

    Inputs come from the INPUT_* variables action.yml sets; credentials from DLHUB_MANIFEST_TOKEN,
    GLOBUS_CLIENT_ID/GLOBUS_CLIENT_SECRET, or else the job's OpenID Connect ID token (`id-token: write`).
    Exit status: 0 published (or submitted), 1 failed.

    Example: INPUT_TARGET=https://registry.example.org dlhub-manifest github-action
    """
    from dlhub_manifest.ci.action import ActionInputs, run_action
    from dlhub_manifest.ci.github import append_to, format_outputs
    from dlhub_manifest.cli._progress import StderrProgress

    inputs = ActionInputs(path, target, version, wait, timeout, dry_run, oidc_audience or "dlhub-manifest", examples)
    with _annotated_errors():
        pub = run_action(inputs, os.environ, StderrProgress())
    append_to(os.environ.get("GITHUB_OUTPUT"), format_outputs(pub.outputs()))
    append_to(os.environ.get("GITHUB_STEP_SUMMARY"), pub.summary())
    click.echo(pub.headline())
    if not pub.ok:
        from dlhub_manifest.ci.github import error_command

        click.echo(error_command(pub.headline(), title="dlhub-manifest publish"))
        return 1
    return 0


@contextlib.contextmanager
def _annotated_errors() -> Iterator[None]:
    """Show a failure as workflow annotations (on the manifest's lines when located), then let it exit as usual."""
    try:
        yield
    except InvalidManifestError as e:
        from dlhub_manifest.manifest.diagnostics import Report
        from dlhub_manifest.manifest.render import render_github

        click.echo(render_github([Report(d.file, [d]) for d in e.diagnostics]))
        raise
    except DLHubManifestError as e:
        from dlhub_manifest.ci.github import error_command

        click.echo(error_command(str(e), title="dlhub-manifest publish"))
        raise
