"""The `dlhub-manifest` command line: a lazy click group; each command lives in its own module.

Exit codes (the contract): 0 success, 1 failure (invalid manifest, failed task, registry refusal),
2 usage error, 4 authentication needed or refused.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from dlhub_manifest import __version__
from dlhub_manifest.errors import DLHubManifestError

# command name -> "module:function" (modules under dlhub_manifest.cli), imported only when used.
COMMANDS: dict[str, str] = {
    "validate": "validate:validate_command",
    "build": "build:build_command",
    "schema": "schema:schema_command",
    "new": "new:new_command",
    "github-action": "github_action:github_action_command",
    "serve": "serve:serve_command",
    "login": "login:login_command",
    "logout": "logout:logout_command",
    "whoami": "whoami:whoami_command",
    "package": "package:package_command",
    "publish": "publish:publish_command",
    "status": "status:status_command",
    "list": "list:list_command",
    "show": "show:show_command",
    "search": "search:search_command",
    "registry": "registry:registry_command",
    "run": "run:run_command",
    "worker": "worker:worker_command",
    "export": "export:export_command",
    "import": "import_:import_command",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs (fast start-up)."""

    def list_commands(self, _ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, _ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module, attr = spec.split(":")
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; its int return value is the exit code and library errors become one clear line."""
        try:
            rv = super().invoke(ctx)
        except DLHubManifestError as e:
            if ctx.obj and ctx.obj.get("debug"):
                import logging  # lazy: only the --debug error path needs it (start-up speed)

                logging.getLogger("dlhub_manifest").exception("error")
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)
        if isinstance(rv, int) and rv:
            ctx.exit(rv)
        return rv


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlhub-manifest")
@click.option("--debug", is_flag=True, help="Show debug logs and full tracebacks (tokens are still redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Validate, build, publish and track DLHub servables described by a dlhub.yaml.

    Exit codes: 0 ok, 1 failure, 2 usage error, 4 authentication needed.

    Example: dlhub-manifest validate examples/sklearn
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        from dlhub_manifest.util.logsafe import configure_debug_logging

        configure_debug_logging()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map every error to its exit code, never a traceback."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="dlhub-manifest", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - last line of defence: one clear message, not a traceback
        if debug:
            raise
        click.echo(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback and "
                   "please report it)", err=True)
        sys.exit(1)
    sys.exit(_exit_code(rv))


def _exit_code(rv: Any) -> int:
    return rv if isinstance(rv, int) else 0
