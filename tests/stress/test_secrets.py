"""Secrets: every CLI command, run with --debug and a known fake token, never shows a secret anywhere.

Commands come from `dlhub_manifest.cli.COMMANDS` (group subcommands included), so a new command is run too:
with its argument sets from CASES, or, without any, bare and with `--target URL` when it takes one. Each
runs as `python -m dlhub_manifest --debug ...` with DLHUB_MANIFEST_TOKEN set, against a real `serve --debug`
wherever it takes --target, on success and failure paths: wrong token, no Globus Auth, an unreachable
registry (once: the client retries for 13 s), an empty registry, unknown task or servable, invalid manifest.
After each run the secrets (the good token, a wrong token, a Globus client secret) are in no stdout or
stderr, the server's log, or any file under the test's HOME, XDG config/data/cache dirs, registries and
logs, except `login`'s token file, which must be 0600. About 45 subprocesses, 30 s on 2 cores.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from publish_support import make_project
from stress_support import Served, free_port, kill_registry_processes, serve

from dlhub_manifest.cli import COMMANDS, cli

TOKEN = "fake-token-7d1e0c4b9a2f4e8c51d3"  # the server knows it: alice
WRONG = "wrong-token-3b8f61d2c5a94e07a6b1"  # the server does not know it
CLIENT_SECRET = "globus-secret-a6c2e9f0d4b713582c"
SECRETS = {"token": TOKEN, "wrong token": WRONG, "client secret": CLIENT_SECRET}
ANY_EXIT = (0, 1, 2, 4)


def fragments(secret: str) -> tuple[bytes, ...]:
    """The secret and its random tail: a truncated secret in a log is still a leak."""
    return secret.encode(), secret[-16:].encode()


@dataclass(frozen=True)
class Case:
    """One invocation: argv with {placeholders}, the exit codes allowed, the token in the environment, stdin."""

    argv: tuple[str, ...]
    exit: tuple[int, ...] = (0,)
    token: str | None = TOKEN
    stdin: str = ""
    env: tuple[tuple[str, str], ...] = ()


def case(*argv: str, exit: int = 0, token: str | None = TOKEN, stdin: str = "",
         env: tuple[tuple[str, str], ...] = ()) -> Case:
    return Case(argv, (exit,), token, stdin, env)


WRONG_TOKEN: dict[str, Any] = {"exit": 4, "token": WRONG}
CASES: dict[str, list[Case]] = {
    "validate": [case("validate", "{project}"), case("validate", "{bad}", exit=1)],
    "build": [case("build", "{project}", "-o", "{out}/dlhub.json"), case("build", "{out}/missing", exit=1)],
    "schema": [case("schema"), case("schema", "--version", "99", exit=2)],
    "new": [case("new", "--type", "static_method", "--no-input", "--name", "fresh", "-o", "{out}/fresh"),
            case("new", "--no-input", "--name", "Not Valid", "-o", "{out}/bad", exit=2)],
    "github-action": [case("github-action", "--path", "{project}", "--target", "{url}"),
                      case("github-action", "--path", "{project}", "--target", "{url}", **WRONG_TOKEN)],
    # The server every --target case talks to runs `--debug serve`; its log is checked after each case.
    "serve": [case("serve", "--registry", "{out}/unserved", exit=2)],
    "login": [case("login", "--target", "{url}", "--token-stdin", stdin=TOKEN),
              case("login", "--target", "{url}", "--token-stdin", stdin=WRONG, exit=4),
              case("login", "--target", "{url}", "--no-browser", exit=2)],
    "logout": [case("logout", "--target", "{url}")],
    "whoami": [case("whoami"), case("whoami", "--target", "{url}"), case("whoami", "--target", "{url}", **WRONG_TOKEN),
               case("whoami", "--target", "{dead}", exit=1),
               case("whoami", "--target", "{url}", exit=4, token=None,
                    env=(("GLOBUS_CLIENT_ID", "client-id"), ("GLOBUS_CLIENT_SECRET", CLIENT_SECRET)))],
    "package": [case("package", "{project}", "-o", "{out}/servable.zip"),
                case("package", "{bad}", "-o", "{out}/bad.zip", exit=1)],
    "publish": [case("publish", "{project}", "--wait"), case("publish", "{project}", "--target", "{url}", "--wait"),
                case("publish", "{project}", "--target", "{url}", **WRONG_TOKEN),
                case("publish", "{bad}", "--target", "{url}", exit=1)],
    "status": [case("status", "{local_task}"), case("status", "{http_task}", "--target", "{url}"),
               case("status", "no-such-task", "--target", "{url}", exit=1),
               case("status", "{http_task}", "--target", "{url}", **WRONG_TOKEN)],
    "list": [case("list"), case("list", "--target", "{url}"), case("list", "--target", "{url}", **WRONG_TOKEN)],
    "show": [case("show", "secretive"), case("show", "alice/secretive", "--target", "{url}"),
             case("show", "alice/nothing", "--target", "{url}", exit=1)],
    "search": [case("search", "Demo"), case("search", "Demo", "--target", "{url}")],
    "export": [case("export", "{project}", "--to", "cff"),
               case("export", "alice/secretive", "--to", "bibtex", "--target", "{url}"),
               case("export", "alice/nothing", "--to", "cff", "--target", "{url}", exit=1)],
    "import": [case("import", "{bad}", "-o", "{out}/imported.yaml", exit=1)],
    "registry check": [case("registry", "check"), case("registry", "check", "--registry", "{out}/none", exit=1)],
    "registry path": [case("registry", "path")],
    # a password in the database URL is redacted from every message (the server is unreachable: exit 1)
    "registry upgrade": [case("registry", "upgrade", "--registry", "{out}/upgraded"),
                         case("registry", "upgrade", "--database", f"postgresql://u:{CLIENT_SECRET}@127.0.0.1:9/db",
                              exit=1)],
    "worker": [case("worker", "--registry", "{out}/w", "--database", f"postgresql://u:{CLIENT_SECRET}@127.0.0.1:9/db",
                    exit=1)],
}


def command_paths() -> list[str]:
    """Every command the CLI offers, a group's subcommands as 'group sub'."""
    ctx = click.Context(cli)
    paths = []
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            paths += [f"{name} {sub}" for sub in sorted(command.commands)]
        else:
            paths.append(name)
    return paths


def takes_target(path: str) -> bool:
    command: click.Command | None = cli
    for word in path.split():
        assert isinstance(command, click.Group)
        command = command.get_command(click.Context(command), word)
    assert command is not None
    return any(p.name == "target" for p in command.params)


def cases_for(path: str) -> list[Case]:
    """The command's cases; a command without any runs bare, and with --target when it takes one."""
    words = tuple(path.split())
    cases = list(CASES.get(path, [Case(words, ANY_EXIT)]))
    if takes_target(path) and not any("{url}" in c.argv for c in cases):
        cases.append(Case((*words, "--target", "{url}"), ANY_EXIT))
    return cases


@dataclass
class World:
    """Everything the runs share: one HOME and XDG tree, a --debug server, a project, and published tasks."""

    base: Path
    env: dict[str, str]
    server: Served
    values: dict[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "dlhub-manifest"

    def run(self, c: Case, out: Path, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
        """Run the case with --debug; fails if its exit code is unexpected or a secret shows on stdout/stderr."""
        out.mkdir(parents=True, exist_ok=True)
        argv = [a.format(out=out, **self.values) for a in c.argv]
        env = {k: v for k, v in self.env.items() if k != "DLHUB_MANIFEST_TOKEN"}
        env.update({"DLHUB_MANIFEST_TOKEN": c.token} if c.token else {}, **dict(c.env))
        proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "--debug", *argv], input=c.stdin, env=env,
                              cwd=self.base, capture_output=True, text=True, timeout=180, umask=umask)
        shown = f"{argv}: exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        assert proc.returncode in c.exit, shown  # (--debug shows tracebacks on purpose: they must be clean too)
        for what, secret in SECRETS.items():
            assert not any(f in (proc.stdout + proc.stderr).encode() for f in fragments(secret)), f"{what} in {shown}"
        return proc

    def leaks(self) -> list[str]:
        """Files under the test's tree holding a secret (the server's tokens file and a 0600 token store excepted)."""
        found = []
        for path in sorted(self.base.rglob("*")):
            if not path.is_file() or path.is_symlink() or path.name == "server-tokens.yaml":
                continue
            data = path.read_bytes()
            held = [what for what, secret in SECRETS.items() if any(f in data for f in fragments(secret))]
            if held == ["token"] and path == self.config_dir / "tokens.json":
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is not 0600"
                continue
            found += [f"{what} in {path}" for what in held]
        return found


def isolated_env(base: Path) -> dict[str, str]:
    """HOME and the XDG dirs inside `base`, and no dlhub-manifest setting from outside the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLHUB_MANIFEST_", "GLOBUS_", "XDG_"))}
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(base / name.lower())
    env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"] = str(base / "github-output"), str(base / "github-summary")
    return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("secrets")
    env = isolated_env(base)
    with serve(base, {TOKEN: "alice"}, debug=True, env=env) as server:
        w = World(base, env, server, {"url": server.url, "dead": f"http://127.0.0.1:{free_port()}"})
        w.values["project"] = str(make_project(base / "project", name="secretive", version="1.0.0"))
        w.values["bad"] = str(make_project(base / "bad", name="Bad Name!"))
        w.values["local_task"] = _task_id(w.run(case("publish", "{project}", "--wait"), base / "out" / "setup"))
        w.values["http_task"] = _task_id(w.run(case("publish", "{project}", "--target", "{url}", "--wait"),
                                               base / "out" / "setup"))
        yield w
    kill_registry_processes(Path(env["XDG_DATA_HOME"]) / "dlhub-manifest" / "registry")  # its lingering worker


def _task_id(proc: subprocess.CompletedProcess[str]) -> str:
    return next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("task "))


PARAMS = [pytest.param(path, c, id=f"{path}-{i}") for path in command_paths() for i, c in enumerate(cases_for(path))]


@pytest.mark.parametrize(("path", "c"), PARAMS)
def test_no_command_shows_a_secret(world: World, path: str, c: Case) -> None:
    world.run(c, world.base / "out" / path.replace(" ", "-"))
    assert world.leaks() == []


def test_login_stores_the_token_0600_even_under_umask_0_and_logout_forgets_it(world: World, tmp_path: Path) -> None:
    config = tmp_path / "config"
    local = World(world.base, {**world.env, "XDG_CONFIG_HOME": str(config)}, world.server, world.values)
    local.run(case("login", "--target", "{url}", "--token-stdin", stdin=TOKEN, token=None), tmp_path, umask=0)
    tokens = local.config_dir / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.parent.stat().st_mode) & 0o077 == 0
    assert TOKEN in tokens.read_text()  # the store is the one place the token may be
    who = local.run(case("whoami", "--target", "{url}", token=None), tmp_path)
    assert "alice" in who.stdout and "stored login" in who.stdout
    local.run(case("logout", "--target", "{url}", token=None), tmp_path)
    assert TOKEN not in tokens.read_text() and stat.S_IMODE(tokens.stat().st_mode) == 0o600


def test_a_token_file_others_can_read_is_refused_without_showing_it(world: World, tmp_path: Path) -> None:
    config = tmp_path / "config"
    local = World(world.base, {**world.env, "XDG_CONFIG_HOME": str(config)}, world.server, world.values)
    local.run(case("login", "--target", "{url}", "--token-stdin", stdin=TOKEN, token=None), tmp_path)
    tokens = local.config_dir / "tokens.json"
    tokens.chmod(0o644)
    refused = local.run(case("whoami", "--target", "{url}", token=None, exit=4), tmp_path)
    assert "readable by other users" in refused.stderr and str(tokens) in refused.stderr


def test_every_command_is_run_and_every_case_names_a_real_command() -> None:
    paths = command_paths()
    assert {p.split()[0] for p in paths} == set(COMMANDS)
    assert set(CASES) <= set(paths), set(CASES) - set(paths)
    targeted = [p for p in paths if takes_target(p)]
    assert all(any("{url}" in c.argv for c in cases_for(p)) for p in targeted) and "publish" in targeted


def test_the_checks_do_catch_a_leak(world: World, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="token in"):
        world.run(case("validate", f"{TOKEN}.yaml", exit=1), tmp_path)  # the error names the missing path
    planted = world.base / "planted.log"
    planted.write_text(f"Authorization: Bearer ...{TOKEN[8:]}\n")
    try:
        assert world.leaks() == [f"token in {planted}"]
    finally:
        planted.unlink()
