"""Publishing to a registry over HTTP checks the registry first: no credentials, a closed port or a server that
never answers fail within seconds with a plain message, before the model is loaded or a file hashed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from publish_support import marking_project
from registry_server import Server, free_port, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("preflight")) as srv:
        yield srv


@pytest.fixture
def servable(tmp_path: Path) -> Path:
    return marking_project(tmp_path / "servable")


def publish(tmp_path: Path, project: Path, url: str, token: str | None) -> tuple[subprocess.CompletedProcess[str],
                                                                               float]:
    """`publish --target URL` in a fresh process with its own (empty) login store and caches; and its seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLHUB_MANIFEST_", "GLOBUS_"))}
    env.update({"DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config"), "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "c"),
                **({"DLHUB_MANIFEST_TOKEN": token} if token else {})})
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "publish", str(project), "--target", url, "--wait"],
                          env=env, capture_output=True, text=True, timeout=120)
    return proc, time.monotonic() - started


def test_no_credentials_fail_before_inspecting_or_hashing(server: Server, servable: Path, tmp_path: Path) -> None:
    proc, _ = publish(tmp_path, servable, server.url, token=None)
    assert proc.returncode == 4, proc.stderr
    assert "this registry needs a token" in proc.stderr and "Credentials used: none" in proc.stderr
    assert "hashing" not in proc.stderr
    assert not (servable / "inspected").exists()


def test_a_refused_token_fails_before_inspecting(server: Server, servable: Path, tmp_path: Path) -> None:
    proc, _ = publish(tmp_path, servable, server.url, token="not-a-known-token-0123456789")
    assert proc.returncode == 4, proc.stderr
    assert not (servable / "inspected").exists()


def test_a_closed_port_fails_in_seconds_in_plain_words(servable: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc, seconds = publish(tmp_path, servable, url, token="any-token-0123456789abcdef")
    assert proc.returncode == 1
    assert proc.stderr == (f"error: cannot reach the registry at {url}: connection refused (nothing is listening at "
                           "that address and port); check that `dlhub-manifest serve` runs there and the URL is "
                           "right\n")
    assert seconds < 10, seconds  # a few retries with a short backoff; globus-sdk's defaults took ~18 s
    assert not (servable / "inspected").exists()


def test_a_port_that_accepts_but_never_answers_fails_bounded(servable: Path, tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc, seconds = publish(tmp_path, servable, url, token="any-token-0123456789abcdef")
    assert proc.returncode == 1
    assert "it accepted the connection but did not answer in time" in proc.stderr
    assert "Globus" not in proc.stderr and "Error" not in proc.stderr
    assert seconds < 20, seconds
    assert not (servable / "inspected").exists()
