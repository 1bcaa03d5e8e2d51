"""PyTorch inspector with real models: a saved module, TorchScript, a project class, a state_dict by mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dlhub_oracle import validate_servable
from test_build_support import copy_example, project

from dlhub_manifest.build import BuildOptions, build, build_report
from dlhub_manifest.errors import InvalidManifestError

NET = '''
import torch


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.layer(x).double()
'''
# Made in a subprocess: TorchScript warns that it is deprecated, and pytest turns warnings into errors.
MAKE = '''
import sys, warnings
import torch
sys.path.insert(0, sys.argv[1])
from net import Net
out = sys.argv[2]
torch.manual_seed(0)
seq = torch.nn.Sequential(torch.nn.Linear(4, 3))
torch.save(seq, out + "/seq.pt")
torch.save(seq.state_dict(), out + "/weights.pt")
torch.save(Net(), sys.argv[1] + "/net.pt")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    torch.jit.script(seq).save(out + "/scripted.pt")
'''
FAKE_TORCH = "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("torch_models")
    (root / "custom").mkdir()
    (root / "custom" / "net.py").write_text(NET, encoding="utf-8")
    subprocess.run([sys.executable, "-c", MAKE, str(root / "custom"), str(root)], check=True, timeout=120)
    return root


def _servable(model: str, shapes: str = "input_shape: [null, 4]\n    output_shape: [null, 3]", extra: str = "") -> str:
    return f"servable:\n  type: pytorch\n  options:\n    model: {model}\n    {shapes}\n{extra}"


def test_example_module_runs_on_zeros_and_pins_torch_without_local_label(tmp_path: Path) -> None:
    import torch

    document = build(copy_example("pytorch", tmp_path))
    assert document["dlhub"]["dependencies"]["python"] == {"torch": torch.__version__.split("+")[0]}
    assert document["servable"]["model_summary"].startswith("Sequential(\n  (0): Linear(in_features=4")
    assert document["servable"]["methods"]["run"]["output"]["shape"] == [None, 3]
    validate_servable(document)


def test_torchscript_file(tmp_path: Path, models: Path) -> None:
    root = project(tmp_path, _servable("scripted.pt", extra="    format: torchscript\n"),
                   {"scripted.pt": (models / "scripted.pt").read_bytes()})
    document = build(root)
    assert document["servable"]["options"]["format"] == "torchscript"
    assert document["servable"]["model_summary"].startswith("RecursiveScriptModule")


def test_forward_pass_disagreeing_with_the_manifest(tmp_path: Path, models: Path) -> None:
    root = project(tmp_path, _servable("seq.pt", "input_shape: [null, 4]\n    output_shape: [null, 5]",
                                       "    output_type: int64\n"), {"seq.pt": (models / "seq.pt").read_bytes()})
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    found = {d.field: (d.message, d.hint) for d in info.value.diagnostics}
    assert found == {
        "servable.options.output_shape": ("a forward pass on zeros of shape [1, 4] gave an output of shape [1, 3], "
                                          "but output_shape is [null, 5]",
                                          "fix output_shape (use null for the batch dimension)"),
        "servable.options.output_type": ("the model outputs float32, but output_type is int64",
                                         "set output_type: float32"),
    }


def test_a_state_dict_is_not_a_model(tmp_path: Path, models: Path) -> None:
    root = project(tmp_path, _servable("weights.pt"), {"weights.pt": (models / "weights.pt").read_bytes()})
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    (diag,) = info.value.diagnostics
    assert diag.field == "servable.options.model"
    assert "not a model (a state_dict has only weights)" in diag.message


def test_model_class_defined_in_the_project(models: Path) -> None:
    shapes = "input_shape: [null, 6]\n    output_shape: [null, 2]\n    output_type: float64"
    root = project(models / "custom", _servable("net.pt", shapes, "    custom_objects: ['net:Net']\n"))
    document = build(root)
    assert document["servable"]["model_summary"].startswith("Net(")
    assert document["servable"]["methods"]["run"]["output"]["item_type"] == {"type": "float"}


def test_torch_missing_says_which_extra_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(FAKE_TORCH, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(fake))  # the inspection subprocess finds this "torch" first
    with pytest.raises(InvalidManifestError) as info:
        build(copy_example("pytorch", tmp_path))
    (diag,) = info.value.diagnostics
    assert (diag.field, diag.message) == ("servable.options.model", "PyTorch is not installed, so the model cannot "
                                                                    "be inspected")
    assert diag.hint == ("pip install 'dlhub-manifest[torch]', or build with --no-inspect and declare "
                         "dependencies.python.torch (shapes come from the options)")
    document, report = build_report(tmp_path / "pytorch", BuildOptions(inspect=False))
    assert document is not None and report.diagnostics == []
    assert "model_summary" not in document["servable"]
