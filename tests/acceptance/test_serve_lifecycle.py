"""`serve` and its worker live and die together: a SIGKILLed server leaves no worker behind, Ctrl-C exits 130,
while the local registry's detached worker still outlives the command that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from registry_server import Server, running_server

from dlhub_manifest.registry.worker import worker_alive

WORKER_MODULE = b"dlhub_manifest.registry.worker"
DEADLINE = 20.0  # generous: a gone worker is usually gone within a second


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None once the process is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited; only its parent has not reaped it yet


def _poll(condition: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + DEADLINE
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} within {DEADLINE} s"
        time.sleep(0.05)
    return found


def _worker_of(server_pid: int) -> int:
    """The pid of the worker child `serve` started (it starts right after the server is up)."""
    def find() -> int | None:
        for entry in Path("/proc").iterdir():
            fields = _stat(int(entry.name)) if entry.name.isdigit() else None
            if fields and int(fields[1]) == server_pid and WORKER_MODULE in _argv(int(entry.name)):
                return int(entry.name)
        return None
    return int(_poll(find, "serve started its worker"))  # type: ignore[arg-type]


def _argv(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


@contextlib.contextmanager
def _killed_at_exit(pid: int) -> Iterator[None]:
    """Never leave a worker of ours running when an assertion fails."""
    try:
        yield
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as srv:
        yield srv


def test_sigkilled_serve_leaves_no_worker_behind(server: Server) -> None:
    worker = _worker_of(server.proc.pid)
    assert f"--parent\0{server.proc.pid}\0".encode() in _argv(worker) + b"\0"
    with _killed_at_exit(worker):
        server.proc.kill()
        server.proc.wait()
        _poll(lambda: not _alive(worker), "the worker of a SIGKILLed serve exited")
    assert not worker_alive(server.root)  # nobody holds the registry's worker lock any more


def test_ctrl_c_stops_serve_with_exit_130_and_stops_its_worker(server: Server) -> None:
    worker = _worker_of(server.proc.pid)
    with _killed_at_exit(worker):
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=DEADLINE) == 130
        _poll(lambda: not _alive(worker), "the worker of an interrupted serve exited")
    log = server.log.read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log


def test_a_worker_whose_starting_process_is_gone_exits_on_its_own(tmp_path: Path) -> None:
    # This test process is the worker's parent, so `--parent 1` says "the process that started me is gone":
    # the portable check (not the kernel's parent-death signal) must make it leave.
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest.registry.worker", "--registry", str(tmp_path),
                           "--idle", "600", "--parent", "1"], capture_output=True, text=True, timeout=DEADLINE + 30)
    assert proc.returncode == 0
    assert "the process that started this worker (pid 1) is gone" in proc.stderr
    assert "exiting after 0 task(s)" in proc.stderr


def test_the_local_registrys_detached_worker_outlives_the_command_that_started_it(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    code = ("import sys; from pathlib import Path; from dlhub_manifest.registry.worker import spawn_worker; "
            "print(spawn_worker(Path(sys.argv[1]), idle=30))")
    spawner = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60)
    worker = int(spawner.stdout)
    with _killed_at_exit(worker):
        assert b"--parent" not in _argv(worker)
        _poll(lambda: worker_alive(root), "the detached worker took the registry lock")
        time.sleep(0.5)  # many of its polls: a worker following its (gone) spawner would have left by now
        assert _alive(worker) and worker_alive(root)
