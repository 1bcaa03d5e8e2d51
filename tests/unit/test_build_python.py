"""static_method and class_method inspectors, and the sandbox they run in (subprocess, timeout, clean stdout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dlhub_oracle import validate_servable
from test_build_support import copy_example, project, static_servable

from dlhub_manifest.build import BuildOptions, build, build_report
from dlhub_manifest.build.inspect.runner import ProbeFailed, run_probe
from dlhub_manifest.errors import InvalidManifestError

NUMPY_APP = '''
import numpy

def run(x: numpy.ndarray, weights: list[float], bias: float = 0.5) -> tuple[numpy.ndarray, dict[str, int]]:
    print("noise on stdout must not corrupt the answer")
    return x, {}
'''


def _errors(root: Path, **options: object) -> list[tuple[str, str, str | None]]:
    with pytest.raises(InvalidManifestError) as info:
        build(root, **options)  # type: ignore[arg-type]
    return [(d.field, d.message, d.hint) for d in info.value.diagnostics]


def test_static_method_from_numpy_hints_several_parameters_and_defaults(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable("app:run"), {"app.py": NUMPY_APP})
    document = build(root)
    run = document["servable"]["methods"]["run"]
    assert run["input"] == {"type": "tuple", "element_types": [
        {"type": "ndarray", "shape": [None]}, {"type": "list", "item_type": {"type": "float"}}]}
    assert run["output"] == {"type": "tuple", "element_types": [
        {"type": "ndarray", "shape": [None]}, {"type": "dict", "properties": {}}]}
    assert run["parameters"] == {"bias": 0.5}
    assert run["method_details"] == {"module": "app", "method_name": "run", "autobatch": False, "unpack": True}
    assert document["servable"]["shim"] == "python.PythonStaticMethodServable"
    validate_servable(document)
    assert not (root / "__pycache__").exists()  # inspection writes nothing into the project


def test_missing_hint_is_a_diagnostic_at_the_function_naming_the_parameter(tmp_path: Path) -> None:
    app = "def run(x, y: int):\n    return x\n"
    root = project(tmp_path, static_servable("pkg.app:run"), {"pkg/__init__.py": "", "pkg/app.py": app})
    errors = _errors(root)
    assert errors == [
        ("servable.options.function", "run(x, y: int): parameter 'x' has no type hint",
         "add the type hint, or declare servable.methods.run.input/output"),
        ("servable.options.function", "run(x, y: int): the return value has no type hint",
         "add the type hint, or declare servable.methods.run.input/output"),
    ]


def test_declared_input_and_output_stand_in_for_missing_hints(tmp_path: Path) -> None:
    methods = "run:\n  input: {type: list, item_type: {type: float}}\n  output: {type: float}\n"
    root = project(tmp_path, static_servable("app:run", methods), {"app.py": "def run(x, y=2):\n    return x\n"})
    run = build(root)["servable"]["methods"]["run"]
    assert run["output"] == {"type": "float"} and run["parameters"] == {"y": 2}


@pytest.mark.parametrize(("app", "expected"), [
    ("x = 1 / 0\n", "inspection failed: ZeroDivisionError: division by zero"),
    ("def other() -> int:\n    return 1\n", "inspection failed: LookupError: module 'app' has no function 'run'"),
    ("import sys\nsys.exit(3)\n", "inspection failed: SystemExit: 3"),
    ("import not_installed_anywhere\n", "loading needs the Python module 'not_installed_anywhere', which is not "
                                        "installed and not in the project"),
])
def test_user_code_failures_become_diagnostics(tmp_path: Path, app: str, expected: str) -> None:
    root = project(tmp_path, static_servable("app:run"), {"app.py": app})
    ((field, message, hint),) = _errors(root)
    assert (field, message) == ("servable.options.function", expected)
    assert hint is not None and "--no-inspect" in hint


def test_a_hanging_import_is_killed_at_the_timeout(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable("app:run"), {"app.py": "import time\ntime.sleep(120)\n"})
    ((field, message, hint),) = _errors(root, timeout=1.0)
    assert (field, message) == ("servable.options.function", "inspection did not finish within 1 s")
    assert hint == "raise --timeout, or build with --no-inspect and declare servable.methods.run.input and .output"


def test_class_method_example_describes_each_declared_method(tmp_path: Path) -> None:
    document = build(copy_example("class_method", tmp_path))
    methods = document["servable"]["methods"]
    assert list(methods) == ["run", "invert"]
    assert methods["run"]["method_details"] == {"method_name": "calibrate", "class_name": "calibrator.LinearCalibrator"}
    assert methods["run"]["parameters"] == {"digits": 3}
    assert methods["invert"]["input"] == {"type": "list", "item_type": {"type": "float"}}
    assert document["dlhub"]["files"] == {"pickle": "calibrator.pkl", "other": ["calibrator.py"]}
    assert document["servable"]["options"] == {"serialization_method": "pickle"}
    validate_servable(document)


def test_class_method_without_the_named_method(tmp_path: Path) -> None:
    target = copy_example("class_method", tmp_path)
    manifest = target / "dlhub.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("method: calibrate", "method: calibrat"), "utf-8")
    errors = _errors(target)
    assert ("servable.options.method", "calibrator.LinearCalibrator has no method 'calibrat'",
            "check the method name") in errors


def test_pickle_of_a_class_that_is_not_in_the_project(tmp_path: Path) -> None:
    code = ("import pickle, sys\nsys.path.insert(0, sys.argv[1])\nimport gone\n"
            "pickle.dump(gone.Thing(), open(sys.argv[2], 'wb'))\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "gone.py").write_text("class Thing:\n    def run(self, x: int) -> int:\n        return x\n")
    root = project(tmp_path / "p", "servable:\n  type: class_method\n  options: {object: obj.pkl, method: run}\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "src"), str(root / "obj.pkl")], check=True)
    ((field, message, _hint),) = _errors(root)
    assert field == "servable.options.object"
    assert message == "loading needs the Python module 'gone', which is not installed and not in the project"


def test_no_inspect_never_unpickles(tmp_path: Path) -> None:
    servable = ("servable:\n  type: class_method\n  options: {object: obj.pkl, method: run}\n"
                "  methods:\n    run:\n      input: {type: integer}\n      output: {type: integer}\n")
    root = project(tmp_path, servable, {"obj.pkl": b"not a pickle at all"})
    document, report = build_report(root, BuildOptions(inspect=False))
    assert report.diagnostics == []
    assert document is not None
    assert document["servable"]["methods"]["run"]["method_details"] == {"method_name": "run"}


def test_run_probe_reports_missing_modules_by_name(tmp_path: Path) -> None:
    with pytest.raises(ProbeFailed) as info:
        run_probe("static_method", {"module": "absent_mod", "function": "f"}, tmp_path, timeout=30)
    assert info.value.missing == "absent_mod"
    assert "No module named 'absent_mod'" in info.value.message


def test_the_model_code_sees_no_secret_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_ACCESS_TOKEN", "tok-1234567890")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    app = ("import os\nraise RuntimeError(os.environ.get('DLHUB_ACCESS_TOKEN', 'no token') + ' / ' + "
           "os.environ['HARMLESS_SETTING'])\n")
    root = project(tmp_path, static_servable("app:run"), {"app.py": app})
    ((_field, message, _hint),) = _errors(root)
    assert message == "inspection failed: RuntimeError: no token / visible"
