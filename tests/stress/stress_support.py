"""Helpers for the stress tests: the processes working on a registry, a real `serve`, and CLI runs.

Processes are found by their command line naming our own temporary registry folder, so a test only ever
signals processes it started (directly, or through the publish client that spawned a worker).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from dlhub_manifest.util.procutil import stop_process

WORKER_MODULE = "dlhub_manifest.registry.worker"


def registry_pids(root: Path, *, workers_only: bool = False) -> list[int]:
    """Live processes other than this one whose argv names the registry folder `root` (zombies have no argv)."""
    wanted = str(root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # exited while we looked
        if wanted in argv and (not workers_only or WORKER_MODULE.encode() in argv):
            found.append(int(entry.name))
    return found


def kill_pids(pids: list[int]) -> int:
    """SIGKILL each process (and its group when it leads one, as a spawned worker does); returns how many were hit.

    Our own children (workers the in-process CLI spawned) are reaped, so none lingers as a zombie.
    """
    hit = 0
    for pid in pids:
        ours = _parent(pid) == os.getpid()
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            hit += 1
        if ours:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    return hit


def _parent(pid: int) -> int | None:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def kill_registry_processes(root: Path, *, workers_only: bool = False) -> int:
    """Kill every process working on `root` until none is left (a worker may still be starting); returns kills."""
    hit = 0
    for _ in range(20):
        pids = registry_pids(root, workers_only=workers_only)
        if not pids:
            break
        hit += kill_pids(pids)
        time.sleep(0.02)
    return hit


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `dlhub-manifest serve`: its URL, registry folder and combined stdout/stderr log."""

    url: str
    root: Path
    log: Path


@contextlib.contextmanager
def serve(workdir: Path, tokens: dict[str, str], *, debug: bool = False,
          env: dict[str, str] | None = None) -> Iterator[Served]:
    """`python -m dlhub_manifest [--debug] serve` on a free port with `tokens` (token → username)."""
    tokens_file = workdir / "server-tokens.yaml"
    tokens_file.write_text("".join(f"{json.dumps(token)}: {{id: 'urn:test:{user}', username: {user}}}\n"
                                   for token, user in tokens.items()))
    port, root, log = free_port(), workdir / "served-registry", workdir / "server.log"
    argv = [sys.executable, "-m", "dlhub_manifest", *(["--debug"] if debug else []), "serve", "--registry",
            str(root), "--port", str(port), "--tokens", str(tokens_file)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                env={**(env or os.environ), "PYTHONUNBUFFERED": "1"})
    served = Served(f"http://127.0.0.1:{port}", root, log)
    try:
        _wait_until_up(served, proc)
        yield served
    finally:
        left = _stop(proc, root)
    assert not left, f"serve stopped by SIGTERM (as systemd or docker stop it) left its worker running: {left}"


def _stop(proc: subprocess.Popen[bytes], root: Path) -> list[int]:
    """SIGTERM the server and wait; returns the processes still working on its registry (killed, not kept)."""
    stop_process(proc, grace=20)
    deadline = time.monotonic() + 15  # the server gives its worker 10 s to stop
    while (left := registry_pids(root)) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_pids(left)
    return left


def _wait_until_up(served: Served, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{served.log.read_text()}"
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(served.url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"serve did not answer within {timeout:g} s:\n{served.log.read_text()}")


def cli_json(*args: str) -> Any:
    """Run the CLI in-process with `--format json`; fails with its output unless it exits 0."""
    from click.testing import CliRunner

    from dlhub_manifest.cli import cli

    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)
