"""The README's Python API snippet runs as written for any user, not only one whose login is `root`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _api_snippet() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    [snippet] = [b for b in blocks if "from dlhub_manifest import api" in b]
    return snippet


def test_the_api_snippet_runs_for_a_user_who_is_not_root(tmp_path: Path) -> None:
    env = {**os.environ, "USER": "alice", "LOGNAME": "alice", "PYTHONPATH": str(REPO),
           "DLHUB_MANIFEST_REGISTRY": str(tmp_path / "registry"), "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache")}
    code = _api_snippet() + "\nprint(api.describe_servable('alice/iris-classifier')['datacite']['titles'])\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "succeeded"
    assert "Iris species classifier" in proc.stdout
