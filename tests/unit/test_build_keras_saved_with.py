"""What a saved Keras model says about how it was saved: the Keras version is pinned, the backend is recorded
in the summary but never made a dependency (the deployer picks it), and odd metadata never breaks the document."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_build_support import REPO, project

from dlhub_manifest.build import build, check_document

EXAMPLE = REPO / "examples" / "keras" / "model.keras"
BACKENDS = {"tensorflow", "jax", "torch"}


def _config() -> dict[str, Any]:
    with zipfile.ZipFile(EXAMPLE) as archive:
        return dict(json.loads(archive.read("config.json")))


def _keras_file(root: Path, metadata: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(root / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(_config()))
        archive.writestr("metadata.json", json.dumps(metadata))
    return project(root, "servable:\n  type: keras\n  options:\n    model: model.keras\n")


def _h5_file(root: Path, attrs: dict[str, Any]) -> Path:
    import h5py

    root.mkdir(parents=True, exist_ok=True)
    with h5py.File(root / "model.h5", "w") as fh:
        fh.attrs["model_config"] = json.dumps(_config())
        for key, value in attrs.items():
            fh.attrs[key] = value
    return project(root, "servable:\n  type: keras\n  options:\n    model: model.h5\n")


def test_the_keras_version_from_metadata_json_is_pinned_and_no_backend_is_guessed(tmp_path: Path) -> None:
    document = build(_keras_file(tmp_path, {"keras_version": "3.4.1", "date_saved": "2024-07-01@10:00:00"}))
    assert document["dlhub"]["dependencies"]["python"] == {"keras": "3.4.1"}
    assert "backend" not in document["servable"]["model_summary"]


def test_a_backend_named_in_metadata_json_is_recorded_but_not_a_dependency(tmp_path: Path) -> None:
    document = build(_keras_file(tmp_path, {"keras_version": "3.4.1", "backend": "jax"}))
    assert document["dlhub"]["dependencies"]["python"] == {"keras": "3.4.1"}
    assert document["servable"]["model_summary"].splitlines()[:2] == ["Functional model 'iris_mlp'",
                                                                      "saved with the jax backend"]


def test_an_h5_file_gives_its_keras_version_and_backend(tmp_path: Path) -> None:
    document = build(_h5_file(tmp_path, {"keras_version": b"3.15.1", "backend": b"tensorflow"}))
    assert document["dlhub"]["dependencies"]["python"] == {"keras": "3.15.1"}
    assert not BACKENDS & set(document["dlhub"]["dependencies"]["python"])
    assert "saved with the tensorflow backend" in document["servable"]["model_summary"].splitlines()


@pytest.mark.parametrize("metadata", [{"keras_version": 3}, {"keras_version": ""}, {"keras_version": None},
                                      {"keras_version": ["3.4.1"]}, {"backend": {"name": "jax"}}, {}],
                         ids=["number", "empty", "null", "list", "odd-backend", "nothing"])
def test_odd_metadata_is_ignored_rather_than_written_into_the_document(tmp_path: Path,
                                                                       metadata: dict[str, Any]) -> None:
    document = build(_keras_file(tmp_path, metadata))
    assert document["dlhub"]["dependencies"]["python"] == {}
    assert "backend" not in document["servable"]["model_summary"]
    assert check_document(document) == []
