"""The dlhub_sdk-style Python API over the local registry (a real worker process runs the tasks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from publish_support import make_project, make_repo

import dlhub_manifest
from dlhub_manifest import api
from dlhub_manifest.errors import RegistryError, UsageError


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "registry"


def test_names_are_exported_lazily_from_the_package() -> None:
    for name in ("publish_servable", "publish_repository", "get_task_status", "easy_publish", "get_servables",
                 "list_servables", "describe_servable", "describe_methods", "search"):
        assert getattr(dlhub_manifest, name) is getattr(api, name)


def test_publish_servable_then_look_it_up(registry: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    task_id = api.publish_servable(project, registry=registry, inspect=False, wait=True)
    status = api.get_task_status(task_id, registry=registry)
    assert status["status"] == "succeeded"
    owner = status["servable"].split("/")[0]
    assert api.list_servables(registry=registry) == [f"{owner}/demo"]
    (project / "weights.bin").write_bytes(b"new")
    api.publish_servable(project, registry=registry, inspect=False, wait=True)
    assert [d["dlhub"]["version"] for d in api.get_servables(registry=registry)] == ["0.1.1"]
    assert [d["dlhub"]["version"] for d in api.get_servables(False, registry=registry)] == ["0.1.0", "0.1.1"]
    assert api.describe_servable("demo@0.1.0", registry=registry)["dlhub"]["version"] == "0.1.0"
    assert api.describe_methods(f"{owner}/demo", "run", registry=registry)["input"]["type"] == "list"
    with pytest.raises(UsageError, match="has no method 'predict'; it has: run"):
        api.describe_methods("demo", "predict", registry=registry)
    assert [s["name"] for s in api.search("doubles", registry=registry)] == ["demo"]


def test_wait_raises_when_the_task_fails(registry: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", version="1.0.0")
    api.publish_servable(project, registry=registry, inspect=False, wait=True)
    (project / "weights.bin").write_bytes(b"changed")
    with pytest.raises(RegistryError, match="already published with different content"):
        api.publish_servable(project, registry=registry, inspect=False, wait=True)


def test_publish_repository_with_a_tag(registry: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v0.4.0")
    task_id = api.publish_repository(repo, registry=registry, inspect=False, wait=True)
    assert api.get_task_status(task_id, registry=registry)["result"]["version"] == "0.4.0"


def test_easy_publish_writes_a_manifest_from_sdk_arguments(registry: Path, tmp_path: Path,
                                                           repo_root: Path) -> None:
    model = tmp_path / "model.pkl"
    shutil.copy(repo_root / "examples" / "sklearn" / "model.pkl", model)
    task_id = api.easy_publish("Iris species classifier", ["Ward, Logan", "Blaiszik, Ben"], "iris-classifier",
                               "sklearn", {"model_path": str(model), "n_input_columns": 4,
                                           "classes": ["setosa", "versicolor", "virginica"],
                                           "serialization_method": "pickle"},
                               affiliations=[["Argonne National Laboratory"], ["University of Chicago"]],
                               paper_doi="10.1000/xyz123", registry=registry)
    from dlhub_manifest.publish.files import wait_for_task
    from dlhub_manifest.targets import resolve_target

    assert wait_for_task(resolve_target(registry=registry), task_id, timeout=60)["status"] == "succeeded"
    doc = api.describe_servable("iris-classifier", registry=registry)
    assert doc["datacite"]["creators"][1]["affiliations"] == ["University of Chicago"]
    assert doc["datacite"]["relatedIdentifiers"][0]["relatedIdentifier"] == "10.1000/xyz123"
    assert doc["dlhub"]["files"] == {"model": "model.pkl"}
    assert doc["servable"]["methods"]["run"]["input"]["shape"] == [None, 4]


def test_easy_publish_refuses_unknown_types_and_mismatched_affiliations(registry: Path) -> None:
    with pytest.raises(UsageError, match="servable_type 'onnx' is not supported"):
        api.easy_publish("t", ["A, B"], "x", "onnx", {}, registry=registry)
    with pytest.raises(UsageError, match="one list per creator"):
        api.easy_publish("t", ["A, B"], "x", "sklearn", {}, affiliations=[], registry=registry)


def test_parse_servable_ref() -> None:
    assert api.parse_servable_ref("alice/iris@1.0.0", "me") == ("alice", "iris", "1.0.0")
    assert api.parse_servable_ref("iris", "me") == ("me", "iris", None)
    for bad in ("a/b/c", "iris@", "/", "alice/"):
        with pytest.raises(UsageError, match="OWNER/NAME"):
            api.parse_servable_ref(bad, "me")
