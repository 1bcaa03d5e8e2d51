"""`validate` tells a joblib file declared as `serialization: pickle` from its header, and suggests joblib."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy
import pytest

from dlhub_manifest.manifest.validate import validate_path

MANIFEST = """\
manifest_version: 1
name: probe
title: A test servable
creators: ["Doe, Jane"]
servable:
  type: {kind}
  options:
    {key}: {file}
{extra}"""
OPTIONS = {"sklearn": ("model", "    n_input_columns: 2\n"), "class_method": ("object", "    method: predict\n")}
MODEL = {"weights": numpy.arange(64, dtype="float64"), "name": "tiny"}


def _project(tmp_path: Path, kind: str, dump: str, serialization: str | None) -> Path:
    key, extra = OPTIONS[kind]
    path = tmp_path / "model.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(MODEL))
    else:
        joblib.dump(MODEL, path, compress=3 if dump == "joblib-compressed" else 0)
    if serialization:
        extra += f"    serialization: {serialization}\n"
    (tmp_path / "dlhub.yaml").write_text(MANIFEST.format(kind=kind, key=key, file=path.name, extra=extra))
    return tmp_path


@pytest.mark.parametrize("kind", sorted(OPTIONS))
@pytest.mark.parametrize("dump", ["joblib-compressed", "joblib-plain"])
@pytest.mark.parametrize("serialization", ["pickle", None])
def test_a_joblib_file_declared_as_pickle_suggests_joblib(tmp_path: Path, kind: str, dump: str,
                                                          serialization: str | None) -> None:
    _, report = validate_path(_project(tmp_path, kind, dump, serialization))
    [problem] = report.diagnostics
    where = "serialization" if serialization else OPTIONS[kind][0]
    assert problem.path == ("servable", "options", where)
    assert problem.message == "model.bin was written by joblib.dump, which pickle cannot read"
    assert problem.hint is not None and problem.hint.startswith("set `serialization: joblib`")
    with pytest.raises(pickle.UnpicklingError):  # the premise: pickle really cannot read it
        pickle.loads((tmp_path / "model.bin").read_bytes())


@pytest.mark.parametrize(("dump", "serialization"), [("pickle", "pickle"), ("pickle", "joblib"),
                                                      ("joblib-compressed", "joblib"), ("joblib-plain", "joblib")])
def test_a_file_its_serialization_can_read_is_fine(tmp_path: Path, dump: str, serialization: str) -> None:
    _, report = validate_path(_project(tmp_path, "sklearn", dump, serialization))
    assert report.ok and report.diagnostics == []
