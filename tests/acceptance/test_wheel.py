"""The built wheel carries schemas/ and templates/ and works from its installed location, not the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    [whl] = out.glob("dlhub_manifest-*.whl")
    return whl


def test_wheel_contains_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dlhub_manifest/_data/schemas/dlhub-manifest.v1.schema.json" in names
    assert "dlhub_manifest/_data/schemas/spdx-licenses.json" in names
    assert any(n.startswith("dlhub_manifest/_data/templates/") for n in names)
    assert "dlhub_manifest/py.typed" in names
    web = "dlhub_manifest/server/web/"
    for page in ("base", "home", "servable", "diff", "task", "owner", "signin", "error"):
        assert f"{web}templates/{page}.html" in names
    assert {f"{web}static/app.js", f"{web}static/style.css", f"{web}static/favicon.svg"} <= names


def test_installed_wheel_validates_with_its_own_schema(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.pkl").write_bytes(b"x")
    (project / "dlhub.yaml").write_text(
        "manifest_version: 1\nname: iris\ntitle: Iris\ncreators: ['Ward, Logan']\nlicense: mit\n"
        "servable: {type: sklearn, options: {model: model.pkl, n_input_columns: 4}}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = subprocess.run(
        [sys.executable, "-c", "import dlhub_manifest, dlhub_manifest.util.resources as r; "
         "print(dlhub_manifest.__file__); print(r.schema_path())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=60)
    module_file, schema = probe.stdout.split()
    assert module_file.startswith(str(target)) and schema.startswith(str(target / "dlhub_manifest" / "_data"))
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "validate", "dlhub.yaml"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "dlhub.yaml:5:1: license: 'mit' is not an SPDX license identifier (hint: did you mean 'MIT'?)" in proc.stdout
