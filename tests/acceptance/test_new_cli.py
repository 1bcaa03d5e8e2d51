"""`dlhub-manifest new`: every servable type generates a project that validates, builds and passes its own tests."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from dlhub_manifest.cli import cli

COMMON = {"dlhub.yaml", "README.md", ".gitignore", "pytest.ini", ".pre-commit-config.yaml",
          ".github/workflows/publish.yml", "requirements.txt"}
OWN_FILES = {
    "sklearn": {"train.py", "tests/test_model.py"},
    "static_method": {"servable.py", "tests/test_servable.py"},
    "class_method": {"train.py", "centroid.py", "data.py", "tests/test_model.py"},
    "pytorch": {"train.py", "net.py", "data.py", "tests/test_model.py"},
    "keras": {"train.py", "data.py", "tests/test_model.py"},
    "tensorflow": {"train.py", "data.py", "tests/test_model.py"},
}
# What each type writes when trained; static_method has no model.
MODEL = {"sklearn": "model.pkl", "class_method": "model.pkl", "pytorch": "model.pt", "keras": "model.keras",
         "tensorflow": "saved_model"}
# The framework each generated project imports; None: always installed with dlhub-manifest's test extra.
FRAMEWORK = {"sklearn": None, "static_method": None, "class_method": None, "pytorch": "torch",
             "keras": "keras", "tensorflow": "tensorflow"}
SLOW = {"pytorch", "keras", "tensorflow"}


def generate(run_cli: Callable[..., Result], servable_type: str, project: Path, *extra: str) -> Result:
    return run_cli("new", "--type", servable_type, "--no-input", "--author", "Ward, Logan", "-o", str(project),
                   *extra)


def files_in(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def run_in(project: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run a command in the generated project with a plain environment (no pytest plugins of ours)."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(list(args), cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def framework_present(servable_type: str) -> bool:
    module = FRAMEWORK[servable_type]
    return module is None or importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("servable_type", sorted(OWN_FILES))
def test_every_type_generates_its_files_and_a_manifest_valid_before_training(
        servable_type: str, tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    project = tmp_path / "demo"
    out = generate(run_cli, servable_type, project).stdout
    assert f"Created the {servable_type} servable 'demo' in " in out
    assert files_in(project) == COMMON | OWN_FILES[servable_type]
    run_cli("validate", "--no-files", str(project))
    data = yaml.safe_load((project / "dlhub.yaml").read_text())
    assert (data["name"], data["creators"], data["servable"]["type"]) == ("demo", ["Ward, Logan"], servable_type)


@pytest.mark.parametrize("servable_type", [
    pytest.param(t, marks=[pytest.mark.slow] if t in SLOW else []) for t in sorted(OWN_FILES)])
def test_generated_project_trains_passes_its_tests_and_validates(
        servable_type: str, tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    """The newcomer path. Frameworks that CI may lack run only where installed; the others must always pass."""
    project = tmp_path / "demo"
    generate(run_cli, servable_type, project)
    if not framework_present(servable_type):
        # Without the framework only the manifest can be checked: it must still validate, files aside.
        run_cli("validate", "--no-files", str(project))
        return
    if servable_type in MODEL:
        assert not (project / MODEL[servable_type]).exists()
        run_in(project, sys.executable, "train.py")
        assert (project / MODEL[servable_type]).exists()
    tests = run_in(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    passed = re.search(r"^(\d+) passed", tests.stdout.splitlines()[-1])
    assert passed and int(passed.group(1)) >= 2, tests.stdout
    assert run_cli("validate", str(project)).stdout.strip().endswith("dlhub.yaml: ok")
    document = json.loads(run_cli("build", "--format", "json", str(project)).stdout)
    assert document["dlhub"]["name"] == "demo" and "run" in document["servable"]["methods"]
    shipped = json.dumps(document["dlhub"]["files"])
    assert f'"{MODEL.get(servable_type, "servable.py")}"' in shipped, shipped


def test_the_project_tests_fail_until_the_model_is_trained(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    """Its tests check the file that gets published, so a missing model is a failure, not a skip."""
    project = tmp_path / "demo"
    generate(run_cli, "class_method", project)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "model.pkl is missing: run `python train.py` first" in proc.stdout


def test_prompts_offer_defaults_and_ask_again_for_a_bad_name(tmp_path: Path) -> None:
    project = tmp_path / "Lab Model"
    answers = "\n".join(["pytorch", "Not Valid", "lab-net", "", "Ben Blaiszik"]) + "\n"
    result = CliRunner().invoke(cli, ["new", "-o", str(project)], input=answers)
    assert result.exit_code == 0, result.output
    choices = "sklearn, static_method, class_method, pytorch, keras, tensorflow"
    assert f"Servable type ({choices}) [sklearn]:" in result.output
    assert "Name [pytorch-servable]:" in result.output  # "Lab Model" is no valid name, so the type's default
    assert "'Not Valid' is not a valid servable name" in result.output
    assert "Title [Lab net]:" in result.output
    data = yaml.safe_load((project / "dlhub.yaml").read_text())
    assert (data["name"], data["title"], data["creators"]) == ("lab-net", "Lab net", ["Blaiszik, Ben"])
    assert data["servable"]["type"] == "pytorch"


def test_no_input_uses_the_folder_name(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    run_cli("new", "--no-input", "--author", "Ward, Logan", "-o", "iris-classifier", cwd=tmp_path)
    data = yaml.safe_load((tmp_path / "iris-classifier" / "dlhub.yaml").read_text())
    assert (data["name"], data["title"], data["servable"]["type"]) == ("iris-classifier", "Iris classifier",
                                                                       "sklearn")


def test_default_folder_is_the_name_in_the_working_directory(tmp_path: Path,
                                                             run_cli: Callable[..., Result]) -> None:
    out = run_cli("new", "--type", "keras", "--name", "tiny", "--title", "Tiny net", "--no-input",
                  "--author", "Ward, Logan", cwd=tmp_path).stdout
    assert "in tiny\n" in out
    assert "  cd tiny\n  python -m pip install -r requirements.txt pytest\n  python train.py" in out
    assert yaml.safe_load((tmp_path / "tiny" / "dlhub.yaml").read_text())["title"] == "Tiny net"


def test_invalid_input_is_a_usage_error_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "new", "--no-input", "--name", "Bad Name",
                           "-o", str(tmp_path / "p")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "error: name 'Bad Name' is not a valid servable name" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "p").exists()


def test_existing_folder_without_force_exits_2_and_force_keeps_other_files(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    cmd = [sys.executable, "-m", "dlhub_manifest", "new", "--no-input", "--author", "Ward, Logan", "-o", str(project)]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "already exists and is not empty; pass --force" in refused.stderr
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    forced = subprocess.run([*cmd, "--force"], capture_output=True, text=True, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert (project / "notes.txt").read_text() == "mine" and (project / "dlhub.yaml").is_file()


def in_terminal(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as stdin/stdout/stderr, as a person at a terminal does."""
    import pty

    controller, terminal = pty.openpty()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks = []
    try:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(controller)
    return proc.wait(timeout=timeout), b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def test_a_newcomer_goes_from_new_to_a_succeeded_task(tmp_path: Path) -> None:
    """The issue's path, word for word: new --no-input -o demo; cd demo; python train.py; dlhub-manifest publish."""
    env = {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(tmp_path / "registry"),
           "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"), "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    tool = [sys.executable, "-m", "dlhub_manifest"]
    subprocess.run([*tool, "new", "--type", "sklearn", "--no-input", "-o", "demo"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=120)
    demo = tmp_path / "demo"
    run_in(demo, sys.executable, "train.py")
    code, screen = in_terminal([*tool, "publish"], demo, env)
    assert code == 0, screen
    task_id = re.search(r"^task (\S+)$", screen, re.M)
    assert task_id, screen
    assert re.search(r"^succeeded: published \S+/demo@0\.1\.0", screen, re.M), screen
    status = subprocess.run([*tool, "status", task_id.group(1), "--format", "json"], cwd=demo, env=env,
                            capture_output=True, text=True, timeout=60)
    assert json.loads(status.stdout)["status"] == "succeeded"
