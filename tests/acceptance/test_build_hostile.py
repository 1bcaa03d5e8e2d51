"""`build` on hostile projects, run as a user would (a real `dlhub-manifest` subprocess): model code that escapes
the inspection timeout or reads the parent's secrets, Keras files whose configuration is malformed, and a token
that cannot be sent."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from registry_server import running_server

from dlhub_manifest.registry.tasks import pid_alive

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_build_support import project, static_servable  # noqa: E402

SECRETS = {"DLHUB_MANIFEST_TOKEN": "tok-SECRET-0123456789", "GLOBUS_CLIENT_SECRET": "globus-SECRET-0123456789"}

ESCAPE = '''
import os, time
here = os.path.dirname(os.path.abspath(__file__))
if os.fork() == 0:          # double fork + setsid: out of the inspection's process group and session
    os.setsid()
    if os.fork() == 0:
        with open(os.path.join(here, "escaped.pid"), "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(300)
    os._exit(0)
{after}
def run(x: int) -> int:
    return x
'''

PEEK = '''
import os
try:
    data = open(f"/proc/{os.getppid()}/environ", "rb").read()
except OSError as e:
    data = repr(e).encode()
found = [name for name in ("tok-SECRET", "globus-SECRET") if name.encode() in data]
raise RuntimeError("parent environment: " + (", ".join(found) or "no secrets") + f" ({len(data)} bytes)")
'''


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _escaped(root: Path) -> int:
    deadline = time.monotonic() + 5
    while not (root / "escaped.pid").exists():
        assert time.monotonic() < deadline, "the model code never forked"
        time.sleep(0.05)
    return int((root / "escaped.pid").read_text())


# 6. the timeout holds against code that double-forks and calls setsid


@pytest.mark.parametrize(("after", "timeout", "expect"), [
    ("time.sleep(300)", "3", "inspection did not finish within 3 s"),  # the import hangs too
    ("", "30", None),  # the import returns at once; only the escaped process lingers
])
def test_an_escaped_process_neither_outlives_nor_delays_the_build(tmp_path: Path, after: str, timeout: str,
                                                                 expect: str | None) -> None:
    root = project(tmp_path, static_servable("app:run"), {"app.py": ESCAPE.format(after=after)})
    started = time.monotonic()
    proc = cli("build", str(root), "--timeout", timeout, "--output", str(tmp_path / "out.json"))
    took = time.monotonic() - started
    escaped = _escaped(root)
    assert not pid_alive(escaped), "the escaped process is still running"
    if expect:
        assert proc.returncode == 1 and expect in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert took < 15
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert took < 15, f"build waited {took:.1f}s for a process its model left behind"


# 7. the model code cannot read the secrets of the process that runs it


def test_the_model_code_cannot_read_the_parents_secrets_through_proc(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable("app:run"), {"app.py": PEEK})
    proc = cli("build", str(root), env=SECRETS)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "parent environment:" in out, out
    assert "parent environment: no secrets" in out, out
    assert "SECRET-0123456789" not in out


# 14. malformed Keras configurations are the model's problem, not an internal error


def _keras(config: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
    return buffer.getvalue()


def _model(layers: object) -> bytes:
    return json.dumps({"class_name": "Sequential", "config": {"name": "m", "layers": layers}}).encode()


@pytest.mark.parametrize("config", [
    b"[" * 100_000 + b"]" * 100_000,
    _model("abc"),
    _model([{"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}},
            {"class_name": "Dense", "config": {"units": "many"}}]),
    _model([{"class_name": "Dense", "config": "nope"}]),
], ids=["deep", "layers-string", "units-word", "config-string"])
def test_a_malformed_keras_configuration_is_a_diagnostic(tmp_path: Path, config: bytes) -> None:
    servable = "servable:\n  type: keras\n  options:\n    model: model.keras\n"
    root = project(tmp_path, servable, {"model.keras": _keras(config)})
    assert cli("validate", str(root)).returncode == 0
    proc = cli("build", str(root), "--output", str(tmp_path / "out.json"))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "cannot read the Keras model" in out, out
    assert "internal error" not in out


# 11. a token that cannot be sent


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_token_with_a_line_break_is_refused_without_showing_it(tmp_path: Path, debug: list[str]) -> None:
    (tmp_path / "srv").mkdir()
    with running_server(tmp_path / "srv") as srv:
        env = {"DLHUB_MANIFEST_TOKEN": "first-half-0123456789\nsecond-half-0123456789",
               "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
        proc = cli(*debug, "list", "--target", srv.url, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert "the token holds a character that cannot be sent (U+000A" in out
    assert "first-half" not in out and "second-half" not in out
    assert "cannot reach the registry" not in out
