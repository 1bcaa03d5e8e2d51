"""`dlhub-manifest run`: every servable type published to a local registry, then run by reference from a folder
where the project is not, and compared with calling the model directly; inputs refused before loading;
isolated environments built once; examples that fail stop a publication."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest import api

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
X = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


@dataclass(frozen=True)
class Case:
    name: str  # the servable's name in its manifest
    method: str
    input: Any
    direct: str  # Python run in the example folder that prints the model's own answer as JSON


CASES = {
    "sklearn": Case("iris-classifier", "run", X, "import pickle, numpy; m = pickle.load(open('model.pkl', 'rb')); "
                    "out = m.predict_proba(numpy.asarray(X)).tolist()"),
    "static_method": Case("polyfit-surrogate", "run", [0.5, 1.5], "import polyfit; out = polyfit.predict(X)"),
    "class_method": Case("linear-calibrator", "invert", [1.0, 2.0], "import pickle; "
                         "out = pickle.load(open('calibrator.pkl', 'rb')).invert(X)"),
    "pytorch": Case("torch-mlp", "run", X, "import torch; m = torch.load('model.pt', weights_only=False); m.eval(); "
                    "out = m(torch.tensor(X)).detach().tolist()"),
    "keras": Case("keras-iris-mlp", "run", X, "import os; os.environ['KERAS_BACKEND'] = 'torch'; import keras, numpy; "
                  "m = keras.saving.load_model('model.keras'); "
                  "out = m.predict(numpy.asarray(X, dtype='float32'), verbose=0).tolist()"),
    "tensorflow": Case("tf-scorer", "embed", X, "import tensorflow as tf; f = tf.saved_model.load('saved_model')"
                       ".signatures['embed']; out = f(features=tf.constant(X))['embedding'].numpy().tolist()"),
}


@dataclass(frozen=True)
class Published:
    registry: Path
    cache: Path
    elsewhere: Path  # a working directory without any project in it

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(self.registry),
                "DLHUB_MANIFEST_CACHE_DIR": str(self.cache), **extra}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """Every example published once (examples run where the manifest has them), shared by the module."""
    root = tmp_path_factory.mktemp("run")
    where = Published(root / "registry", root / "cache", root / "elsewhere")
    where.elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLHUB_MANIFEST_CACHE_DIR", str(where.cache))
        for kind in CASES:
            api.publish_servable(EXAMPLES / kind, registry=where.registry, wait=True, timeout=300)
        yield where


def cli(where: Published, *args: str, expect: int = 0, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], cwd=cwd or where.elsewhere,
                          env=where.env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == expect, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def direct(kind: str) -> Any:
    case = CASES[kind]
    code = f"import json\nX = {case.input!r}\n{case.direct}\nprint(json.dumps(out))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=EXAMPLES / kind, capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", list(CASES))
def test_run_by_reference_gives_what_the_model_itself_gives(published: Published, kind: str) -> None:
    import numpy

    case = CASES[kind]
    proc = cli(published, "run", case.name, "--method", case.method, "--input", json.dumps(case.input),
               "--format", "json")
    answer = json.loads(proc.stdout)  # --format json: the one JSON object and nothing else
    assert set(answer) == {"output", "method", "elapsed_s"} and answer["method"] == case.method
    assert numpy.allclose(answer["output"], direct(kind), rtol=1e-5, atol=1e-6)
    assert not any(published.elsewhere.iterdir())  # nothing was written where it ran


@pytest.mark.parametrize(("kind", "bad", "problem"), [
    ("sklearn", [[5.1, 3.5, "x", 0.2]], "input[0][2]: expected float, got 'x'"),
    ("pytorch", [[1.0, 2.0, 3.0]], "input[0]: expected 4 items (shape [null, 4]), got 3"),
    ("static_method", [1.0, [2.0]], "input[1]: expected float, got a list"),
    ("tensorflow", [1.0, 2.0, 3.0, 4.0], "input[0]: expected an array of shape [null, 4], got 1.0"),
])
def test_a_wrong_input_is_refused_with_its_json_path(published: Published, kind: str, bad: Any,
                                                     problem: str) -> None:
    proc = cli(published, "run", CASES[kind].name, "--method", CASES[kind].method, "--input", json.dumps(bad),
               expect=1)
    assert problem in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def marker_project(root: Path, imports: str = "") -> Path:
    """A static_method whose module leaves a marker file beside the project when it is imported (loaded)."""
    root.mkdir()
    (root / "noisy.py").write_text(f"{imports}import os\nos.makedirs('{root}.loaded', exist_ok=True)\n\n"
                                   "def run(x: list[float]) -> float:\n    return sum(x)\n")
    (root / "dlhub.yaml").write_text('manifest_version: 1\nname: noisy\ntitle: T\ncreators: ["A, B"]\n'
                                     "servable:\n  type: static_method\n  options:\n    function: noisy:run\n")
    return root


def test_a_bad_input_is_refused_before_the_model_is_loaded(published: Published, tmp_path: Path) -> None:
    project = marker_project(tmp_path / "noisy")
    marker = tmp_path / "noisy.loaded"
    cli(published, "publish", str(project), "--wait")  # inspection loads it
    marker.rmdir()
    proc = cli(published, "run", "noisy", "--input", '["a", 2]', expect=1)
    assert "input[0]: expected float, got 'a'" in proc.stderr
    assert not marker.exists()
    assert json.loads(cli(published, "run", "noisy", "--input", "[1, 2.5]").stdout) == 3.5
    assert marker.is_dir()


def test_parameters_are_parsed_as_json_else_text_and_checked(published: Published) -> None:
    out = cli(published, "run", "polyfit-surrogate", "--input", "[1.0, 2.0]", "--param", "clip=true").stdout
    assert json.loads(out) == pytest.approx([0.495071, 1.011959])
    proc = cli(published, "run", "polyfit-surrogate", "--input", "[1.0]", "--param", "clip=maybe", expect=1)
    assert "parameters.clip: expected a boolean like the default False, got 'maybe'" in proc.stderr


def test_examples_run_from_the_published_manifest(published: Published) -> None:
    proc = cli(published, "run", "linear-calibrator", "--examples")
    assert proc.stdout.splitlines()[0].startswith("PASS run example 1 (")
    assert proc.stdout.splitlines()[1].startswith("PASS invert example 1 (")
    assert proc.stdout.splitlines()[-1] == "2 of 2 example(s) passed"


def test_publishing_records_that_the_examples_passed(published: Published) -> None:
    shown = json.loads(cli(published, "show", "polyfit-surrogate", "--format", "json").stdout)
    document = shown.get("document", shown)
    assert document["provenance"]["examples"] == {"ran": True, "passed": 2, "failed": 0}


def test_a_failing_example_stops_the_publication_and_says_by_how_much(published: Published,
                                                                      tmp_path: Path) -> None:
    project = Path(shutil.copytree(EXAMPLES / "static_method", tmp_path / "p"))
    text = (project / "dlhub.yaml").read_text().replace("name: polyfit-surrogate", "name: wrong-polyfit")
    (project / "dlhub.yaml").write_text(text.replace("output: [0.495071]", "output: [0.6]"))
    proc = cli(published, "publish", str(project), "--wait", expect=1)
    assert "1 of 2 example(s) failed" in proc.stderr
    assert "run example 'clipped': output[0]: expected 0.6, got 0.495071 (off by 0.105, tolerance 1e-06)" \
        in proc.stderr
    assert "wrong-polyfit" not in cli(published, "list").stdout
    cli(published, "publish", str(project), "--wait", "--no-examples")
    shown = json.loads(cli(published, "show", "wrong-polyfit", "--format", "json").stdout)
    assert shown.get("document", shown)["provenance"]["examples"] == {"ran": False, "passed": 0, "failed": 0}


def test_isolated_builds_an_environment_once_then_reuses_it(published: Published, tmp_path: Path) -> None:
    envs = published.cache / "envs"
    first = cli(published, "run", "polyfit-surrogate", "--isolated", "--input", "[2.0]")
    assert "built an isolated environment" in first.stderr
    made = sorted(p.name for p in envs.iterdir())
    second = cli(published, "run", "polyfit-surrogate", "--isolated", "--input", "[2.0]")
    assert second.stderr == "" and second.stdout == first.stdout
    assert sorted(p.name for p in envs.iterdir()) == made  # the second run created nothing
    assert json.loads(second.stdout) == pytest.approx([1.011959])


def tiny_wheel(folder: Path) -> Path:
    """`tinydep` 1.0 as a wheel (a module holding VALUE = 42), for an install without any index."""
    import base64
    import hashlib
    import zipfile

    files = {"tinydep/__init__.py": b"VALUE = 42\n",
             "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
             "tinydep-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                           b"Tag: py3-none-any\n"}
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\n" for name, data in files.items()) + "tinydep-1.0.dist-info/RECORD,,\n"
    folder.mkdir()
    wheel = folder / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in [*files.items(), ("tinydep-1.0.dist-info/RECORD", record.encode())]:
            zf.writestr(name, data)
    return folder


def test_isolated_installs_the_declared_packages_offline(published: Published, tmp_path: Path) -> None:
    """pip's own settings choose the index: here none, and a folder of wheels. (The function imports tinydep
    when called: a project is inspected in the current environment, which does not have it.)"""
    project = marker_project(tmp_path / "needs-tinydep")
    (project / "noisy.py").write_text((project / "noisy.py").read_text().replace(
        "return sum(x)", "import tinydep\n    return sum(x) + tinydep.VALUE"))
    with (project / "dlhub.yaml").open("a") as fh:
        fh.write("dependencies:\n  python:\n    tinydep: '1.0'\n")
    wheels = tiny_wheel(tmp_path / "wheels")
    env = published.env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), PATH=os.path.dirname(sys.executable))
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "run", str(project), "--isolated", "--input",
                           "[1]"], cwd=published.elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == 43
    assert "built an isolated environment" in proc.stderr


def test_isolated_sees_only_what_the_servable_declares(published: Published, tmp_path: Path) -> None:
    project = marker_project(tmp_path / "needs-yaml", imports="import yaml\n")
    assert json.loads(cli(published, "run", str(project), "--input", "[1]").stdout) == 1
    proc = cli(published, "run", str(project), "--isolated", "--input", "[1]", expect=1)
    assert "the module 'yaml' is neither installed nor among the servable's files" in proc.stderr


def test_without_isolation_a_different_framework_version_is_named(published: Published, tmp_path: Path) -> None:
    project = Path(shutil.copytree(EXAMPLES / "static_method", tmp_path / "p"))
    with (project / "dlhub.yaml").open("a") as fh:
        fh.write("dependencies:\n  python:\n    packaging: '0.1'\n    no-such-package-here: '1.0'\n")
    proc = cli(published, "run", str(project), "--input", "[1.0]")
    assert "warning: the servable declares packaging 0.1 but" in proc.stderr
    assert "warning: no-such-package-here is not installed here" in proc.stderr


def test_api_run_and_validate_input(published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(published.cache))
    assert api.run("polyfit-surrogate", [0.0], registry=published.registry) == pytest.approx([0.988379])
    assert api.validate_input("iris-classifier", [[1, 2, 3, 4]], registry=published.registry) == []
    assert api.validate_input("iris-classifier", [[1, 2, 3]], registry=published.registry) == [
        "input[0]: expected 4 items (shape [null, 4]), got 3"]
