"""The pre-commit hook `dlhub-manifest-validate`: its definition, its entry, and pre-commit running it for real."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dlhub_manifest import __version__
from dlhub_manifest.ci.scaffold import ProjectSpec, create_project

REPO = Path(__file__).resolve().parents[2]
GOOD = ("manifest_version: 1\nname: stats\ntitle: Stats\ncreators: [\"Ward, Logan\"]\n"
        "servable:\n  type: static_method\n  options:\n    function: servable:run\n")
BAD_NAME = GOOD.replace("name: stats", "name: Not Valid")


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    [definition] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(definition, dict)
    return definition


def git_env(home: Path) -> dict[str, str]:
    """A git identity for commits made by the test or by pre-commit, and a private pre-commit cache."""
    who = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.org"}
    return {**os.environ, **who, "PRE_COMMIT_HOME": str(home)}


def user_repo(path: Path, manifests: dict[str, str]) -> Path:
    """A git repository holding `manifests` (relative path -> text), each beside the module it names."""
    path.mkdir()
    for rel, text in manifests.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        (target.parent / "servable.py").write_text("def run(x: int) -> int:\n    return x\n")
    (path / "notes.yaml").write_text("not: a manifest\n")
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    return path


def pre_commit(*args: str, cwd: Path, home: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=git_env(home),
                          capture_output=True, text=True, timeout=timeout)


def test_hook_definition_is_valid_for_pre_commit(tmp_path: Path) -> None:
    proc = pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=REPO, home=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("path", "selected"), [
    ("dlhub.yaml", True), ("servables/iris/dlhub.yml", True), ("my-dlhub.yaml", False),
    ("dlhub.yaml.bak", False), ("dlhub.json", False),
])
def test_hook_selects_only_manifest_files(hook: dict[str, Any], path: str, selected: bool) -> None:
    assert hook["id"] == "dlhub-manifest-validate"
    assert bool(re.search(hook["files"], path)) is selected


def test_entry_run_the_way_pre_commit_runs_it(hook: dict[str, Any], tmp_path: Path) -> None:
    """pre-commit runs `entry` followed by the staged files its `files` pattern selects."""
    repo = user_repo(tmp_path / "user", {"good/dlhub.yaml": GOOD, "bad/dlhub.yaml": BAD_NAME})
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout
    files = sorted(f for f in tracked.split() if re.search(hook["files"], f))
    assert files == ["bad/dlhub.yaml", "good/dlhub.yaml"]
    proc = subprocess.run([*shlex.split(hook["entry"]), *files], cwd=repo, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "bad/dlhub.yaml:2:1: name: 'Not Valid'" in proc.stdout
    assert "good/dlhub.yaml: ok" in proc.stdout


@pytest.mark.slow
def test_pre_commit_try_repo_installs_and_runs_the_hook_from_this_repository(tmp_path: Path) -> None:
    """The real thing: pre-commit builds the hook's environment from this checkout (PyPI for dependencies)."""
    home = tmp_path / "pre-commit-home"
    repo = user_repo(tmp_path / "user", {"dlhub.yaml": BAD_NAME})
    failed = pre_commit("try-repo", str(REPO), "dlhub-manifest-validate", "--all-files", cwd=repo, home=home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"validate dlhub\.yaml\.+Failed", failed.stdout)
    assert "dlhub.yaml:2:1: name: 'Not Valid' does not have the expected form" in failed.stdout
    (repo / "dlhub.yaml").write_text(GOOD)
    subprocess.run(["git", "add", "dlhub.yaml"], cwd=repo, check=True)
    passed = pre_commit("try-repo", str(REPO), "dlhub-manifest-validate", "--all-files", cwd=repo, home=home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"validate dlhub\.yaml\.+Passed", passed.stdout)


def test_generated_projects_use_this_hook_at_this_version(hook: dict[str, Any], tmp_path: Path) -> None:
    project = create_project(ProjectSpec("static_method", "stats", "Stats", "Ward, Logan"), tmp_path / "p")
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    [repo] = config["repos"]
    assert repo["rev"] == f"v{__version__}"
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]
    proc = pre_commit("validate-config", str(project / ".pre-commit-config.yaml"), cwd=project, home=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_this_repository_dogfoods_its_validator_on_its_examples(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert {"dlhub-manifest-validate-examples", "ruff"} <= set(hooks)
    examples = sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("examples/*/dlhub.yaml"))
    assert len(examples) == 6
    assert all(re.search(hooks["dlhub-manifest-validate-examples"]["files"], e) for e in examples)
    proc = pre_commit("run", "dlhub-manifest-validate-examples", "--files", *examples, cwd=REPO, home=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"validate the examples with this checkout's dlhub-manifest\.+Passed", proc.stdout)
