"""`run` against a registry over HTTP: files come through `GET /blobs/{sha256}`, which only serves files of
versions the caller can see."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from registry_server import IDS, TOKENS, Server, running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "static_method"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("run-http")) as srv:
        yield srv


def cli(tmp_path: Path, user: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DLHUB_MANIFEST_TOKEN": TOKENS[user], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / user),
           "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == expect, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_run_a_private_servable_over_http_and_its_blobs_stay_private(server: Server, tmp_path: Path) -> None:
    project = Path(shutil.copytree(EXAMPLE, tmp_path / "project"))
    text = (project / "dlhub.yaml").read_text().replace("name: polyfit-surrogate", "name: private-polyfit")
    (project / "dlhub.yaml").write_text(text + f"visible_to: ['{IDS['alice']}']\n")
    cli(tmp_path, "alice", "publish", str(project), "--target", server.url, "--wait")
    out = cli(tmp_path, "alice", "run", "alice/private-polyfit@1.0.0", "--target", server.url, "--input", "[0.0]")
    assert json.loads(out.stdout) == pytest.approx([0.988379])
    fetched = list((tmp_path / "alice" / "servables").glob("*/polyfit.py"))
    assert len(fetched) == 1 and fetched[0].read_bytes() == (project / "polyfit.py").read_bytes()

    sha = hashlib.sha256((project / "coefficients.json").read_bytes()).hexdigest()
    mine = requests.get(f"{server.url}/blobs/{sha}", headers=server.headers("alice"), timeout=30)
    assert mine.status_code == 200 and mine.content == (project / "coefficients.json").read_bytes()
    theirs = requests.get(f"{server.url}/blobs/{sha}", headers=server.headers("bob"), timeout=30)
    assert theirs.status_code == 404
    assert requests.get(f"{server.url}/blobs/{sha}", timeout=30).status_code == 401
    refused = cli(tmp_path, "bob", "run", "alice/private-polyfit", "--target", server.url, "--input", "[0.0]",
                  expect=1)
    assert "is not in the registry" in refused.stderr
