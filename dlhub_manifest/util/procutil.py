"""Stopping a child process politely, then firmly: SIGTERM, a grace period, SIGKILL."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    """Terminate `proc`, wait up to `grace` seconds, kill it if it is still there; returns its exit status."""
    if proc.poll() is not None:
        return proc.returncode
    proc.terminate()
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
