"""The GitHub Action (action.yml) run step by step in a simulated GitHub job, against a real registry server.

`run_composite` does what the runner does for a composite action: each step's `run` script goes to
`bash --noprofile --norc -eo pipefail`, with the step's `env` (expressions evaluated), a fresh $GITHUB_OUTPUT
and $GITHUB_STEP_SUMMARY, and $GITHUB_ACTION_PATH at this checkout; a failing step stops the job, and the
action's outputs are read from the steps' outputs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from registry_server import TOKENS, Server, running_server

from dlhub_manifest.ci.scaffold import ProjectSpec, create_project

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class JobRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.steps)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    def log(self) -> str:
        return "\n".join(f"--- {s.name}: exit {s.returncode}\n{s.stdout}{s.stderr}" for s in self.steps)


def parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` heredocs."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            values[name] = "\n".join(body)
        elif line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def evaluate(text: str, inputs: Mapping[str, str], steps: Mapping[str, dict[str, str]]) -> str:
    """The few expressions action.yml may use; any other expression fails the test (keep the action simple)."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
            return inputs[m.group(1)]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
            return steps.get(m.group(1), {}).get(m.group(2), "")
        raise AssertionError(f"action.yml uses an expression this simulation does not know: {expr}")

    return EXPRESSION.sub(one, text)


def run_composite(action: dict[str, Any], given: Mapping[str, str], env: Mapping[str, str], workdir: Path) -> JobRun:
    unknown = set(given) - set(action["inputs"])
    assert not unknown, f"inputs the action does not declare: {unknown}"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()} | dict(given)
    job, by_id = JobRun(), {}
    for i, step in enumerate(action["runs"]["steps"]):
        assert step.get("shell") == "bash" and "uses" not in step and "if" not in step, step
        script, output, summary = workdir / f"step{i}.sh", workdir / f"output{i}", workdir / f"summary{i}"
        script.write_text(step["run"])
        output.write_text("")
        summary.write_text("")
        step_env = {**env, **{k: evaluate(str(v), inputs, by_id) for k, v in step.get("env", {}).items()},
                    "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=step_env,
                              cwd=env["GITHUB_WORKSPACE"], capture_output=True, text=True, timeout=600)
        outputs = parse_output_file(output.read_text())
        job.steps.append(StepRun(step["name"], proc.returncode, proc.stdout, proc.stderr, outputs, summary.read_text()))
        by_id[step.get("id", f"step{i}")] = outputs
        if proc.returncode != 0:
            return job
    job.outputs = {name: evaluate(spec["value"], inputs, by_id) for name, spec in action["outputs"].items()}
    return job


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("action-registry")) as srv:
        yield srv


def github_env(tmp_path: Path, workspace: Path, ref: str) -> dict[str, str]:
    """What the runner sets for a job on `ref`, plus private dlhub-manifest cache and config folders."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "INPUT_", "DLHUB_"))}
    return {**env, "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(REPO), "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REF": ref, "GITHUB_REF_NAME": ref.rsplit("/", 1)[-1], "GITHUB_SHA": SHA,
            "GITHUB_REPOSITORY": "lab/iris", "GITHUB_SERVER_URL": "https://github.com",
            "RUNNER_TEMP": str(tmp_path / "runner-temp"), "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
            "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}


def static_project(workspace: Path, name: str) -> Path:
    """A servable project in the job's workspace (static_method: nothing to train)."""
    return create_project(ProjectSpec("static_method", name, "Stats", "Ward, Logan"), workspace / "servable")


def job(action: dict[str, Any], tmp_path: Path, ref: str, **inputs: str) -> tuple[JobRun, dict[str, str]]:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    env = github_env(tmp_path, workspace, ref)
    given = {"path": "servable", "install": "false", "python": sys.executable, **inputs}
    return run_composite(action, given, env, tmp_path), env


def test_a_tag_push_publishes_that_version_and_reports_it(action: dict[str, Any], server: Server,
                                                          tmp_path: Path) -> None:
    static_project(tmp_path / "workspace", "stats-tagged")
    run, _ = job(action, tmp_path, "refs/tags/v1.2.0", target=server.url, token=TOKENS["alice"])
    assert not run.failed, run.log()
    assert [s.name for s in run.steps] == ["Install dlhub-manifest", "Validate dlhub.yaml", "Keep CITATION.cff in step",
                                            "Publish"]
    url = f"{server.url}/servables/alice/stats-tagged/versions/1.2.0"
    assert re.fullmatch(r"[0-9a-f-]{36}", run.outputs["task-id"])
    assert {k: v for k, v in run.outputs.items() if k != "task-id"} == {
        "servable": "alice/stats-tagged", "version": "1.2.0", "status": "succeeded", "document-url": url}
    lines = run.summary.splitlines()
    assert lines[0] == "### dlhub-manifest: published `alice/stats-tagged`"
    assert "| version | `1.2.0` |" in lines and f"| task | `{run.outputs['task-id']}` |" in lines
    assert f"| document | [{url}]({url}) |" in lines
    document = requests.get(url, headers=server.headers(), timeout=10).json()
    assert document["version"] == "1.2.0"
    assert json.dumps(document).count(SHA) >= 1  # the job's commit is the provenance
    assert TOKENS["alice"] not in run.log() + run.summary


def test_a_broken_manifest_is_annotated_on_its_lines_and_fails_before_publishing(
        action: dict[str, Any], server: Server, tmp_path: Path) -> None:
    project = static_project(tmp_path / "workspace", "stats-broken")
    manifest = project / "dlhub.yaml"
    manifest.write_text(manifest.read_text().replace("function: servable:run", "function: servable:run\n"
                                                     "    n_input_columns: 4").replace("license: \"MIT\"",
                                                                                      "license: \"Apache 2\""))
    run, _ = job(action, tmp_path, "refs/tags/v1.0.0", target=server.url, token=TOKENS["alice"])
    assert run.failed and [s.name for s in run.steps][-1] == "Validate dlhub.yaml"
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 2, run.log()
    assert all(line.startswith("::error file=servable/dlhub.yaml,line=") for line in annotations)
    lines = manifest.read_text().splitlines()
    for annotation in annotations:
        line = int(re.search(r",line=(\d+),", annotation).group(1))  # type: ignore[union-attr]
        assert ("license" in lines[line - 1]) or ("n_input_columns" in lines[line - 1]), annotation
    assert run.outputs == {}


def test_a_failed_task_fails_the_job_and_still_reports_it(action: dict[str, Any], server: Server,
                                                           tmp_path: Path) -> None:
    """Re-tagging a published version with different content: the registry refuses, the job must fail."""
    project = static_project(tmp_path / "workspace", "stats-retagged")
    first, _ = job(action, tmp_path, "refs/tags/v2.0.0", target=server.url, token=TOKENS["alice"])
    assert not first.failed, first.log()
    (project / "servable.py").write_text((project / "servable.py").read_text() + "\n# changed after release\n")
    run, _ = job(action, tmp_path, "refs/tags/v2.0.0", target=server.url, token=TOKENS["alice"])
    assert run.failed
    publish = run.steps[-1]
    assert publish.name == "Publish" and publish.returncode == 1
    assert publish.outputs["status"] == "failed" and publish.outputs["version"] == "2.0.0"
    assert re.search(r"^::error title=dlhub-manifest publish::alice/stats-retagged 2\.0\.0: task \S+ failed "
                     r"\(.*already published with different content", publish.stdout, re.M), publish.stdout
    assert publish.summary.startswith("### dlhub-manifest: publishing `alice/stats-retagged` failed")
    assert "| status | **failed** |" in publish.summary.splitlines()
    assert publish.outputs["document-url"] == ""  # no link to a document that was not published


def test_a_tag_that_is_no_version_fails_with_an_annotation(action: dict[str, Any], server: Server,
                                                            tmp_path: Path) -> None:
    static_project(tmp_path / "workspace", "stats-badtag")
    run, _ = job(action, tmp_path, "refs/tags/release-7", target=server.url, token=TOKENS["alice"])
    assert run.failed and run.steps[-1].name == "Publish" and run.steps[-1].returncode == 2
    assert ("::error title=dlhub-manifest publish::tag 'release-7' does not name a semantic version"
            in run.steps[-1].stdout)


def test_a_pull_request_dry_run_builds_without_a_registry(action: dict[str, Any], tmp_path: Path) -> None:
    static_project(tmp_path / "workspace", "stats-pr")
    run, _ = job(action, tmp_path, "refs/pull/7/merge", **{"dry-run": "true"})
    assert not run.failed, run.log()
    assert run.outputs == {"task-id": "", "servable": "stats-pr", "version": "", "status": "", "document-url": ""}
    assert run.summary.startswith("### dlhub-manifest: dry run, nothing was published")


def test_a_pull_request_runs_the_examples_and_a_failing_one_fails_the_job(action: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    manifest = static_project(tmp_path / "workspace", "stats-pr-examples") / "dlhub.yaml"
    manifest.write_text(manifest.read_text().replace("mean: 2.5", "mean: 2.6"))
    run, _ = job(action, tmp_path, "refs/pull/8/merge", **{"dry-run": "true"})
    assert run.failed and run.steps[-1].returncode == 1
    step = run.steps[-1].stdout + run.steps[-1].stderr
    assert "run example 1: output.mean: expected 2.6, got 2.5 (off by 0.1, tolerance 1e-06)" in step


def test_publishing_without_a_target_is_refused(action: dict[str, Any], tmp_path: Path) -> None:
    static_project(tmp_path / "workspace", "stats-notarget")
    run, _ = job(action, tmp_path, "refs/tags/v1.0.0")
    assert run.failed and run.steps[-1].returncode == 2
    assert "::error title=dlhub-manifest publish::set the action's `target` input" in run.steps[-1].stdout


def test_a_wrong_token_fails_with_exit_4_and_no_token_in_the_log(action: dict[str, Any], server: Server,
                                                                  tmp_path: Path) -> None:
    static_project(tmp_path / "workspace", "stats-wrongtoken")
    run, _ = job(action, tmp_path, "refs/tags/v1.0.0", target=server.url, token="not-a-valid-token-123")
    assert run.failed and run.steps[-1].returncode == 4, run.log()
    assert "not-a-valid-token-123" not in run.log()
    assert "hashing" not in run.steps[-1].stderr, run.log()  # refused before the build, not after it


@pytest.mark.slow
def test_the_action_installs_dlhub_manifest_from_its_own_checkout(action: dict[str, Any], server: Server,
                                                                   tmp_path: Path) -> None:
    """install: true, into a fresh virtual environment (so this test's own installation stays untouched)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    static_project(tmp_path / "workspace", "stats-installed")
    run, _ = job(action, tmp_path, "refs/tags/v0.3.0", target=server.url, token=TOKENS["alice"], install="true",
                 python=python)
    assert not run.failed, run.log()
    assert run.steps[0].stdout.strip() == "dlhub-manifest, version 0.1.0"
    where = subprocess.run([python, "-c", "import dlhub_manifest; print(dlhub_manifest.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv))
    assert run.outputs["version"] == "0.3.0" and run.outputs["status"] == "succeeded"


@pytest.mark.parametrize(("schema", "path"), [("vendor.github-actions", ACTION)], ids=["action.yml"])
def test_action_yml_validates_against_the_github_action_schema(schema: str, path: Path) -> None:
    proc = subprocess.run(["check-jsonschema", "--builtin-schema", schema, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


@pytest.mark.parametrize("servable_type", ["sklearn", "keras"])
def test_generated_workflow_validates_and_uses_this_action(servable_type: str, action: dict[str, Any],
                                                           tmp_path: Path) -> None:
    project = create_project(ProjectSpec(servable_type, "wf", "Wf", "Ward, Logan"), tmp_path / "p")
    workflow = project / ".github" / "workflows" / "publish.yml"
    proc = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = yaml.safe_load(workflow.read_text())["jobs"]["publish"]["steps"]
    [uses] = [s for s in steps if str(s.get("uses", "")).startswith("dlhub-manifest/dlhub-manifest@")]
    assert set(uses["with"]) <= set(action["inputs"])
    shown = next(s for s in steps if s.get("name") == "Show the task")
    referenced = set(re.findall(r"steps\.dlhub\.outputs\.([\w-]+)", yaml.safe_dump(shown)))
    assert referenced and referenced <= set(action["outputs"])


def test_the_action_splices_no_input_into_a_script(action: dict[str, Any]) -> None:
    """Inputs reach scripts through `env` only: an input holding shell syntax can never run as code."""
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]


def test_citation_check_fails_a_release_whose_citation_cff_is_out_of_step(action: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    project = static_project(tmp_path / "workspace", "stats-cite")
    (project / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: Old title\n", encoding="utf-8")
    run, _ = job(action, tmp_path, "refs/tags/v1.3.0", citation="check", **{"dry-run": "true"})
    assert run.failed and run.steps[-1].name == "Keep CITATION.cff in step", run.log()
    assert "-title: Old title" in run.steps[-1].stdout and "+version: 1.3.0" in run.steps[-1].stdout
    assert "::error file=servable/CITATION.cff" in run.steps[-1].stdout


def test_citation_write_rewrites_citation_cff_with_the_release_version_then_check_passes(
        action: dict[str, Any], tmp_path: Path) -> None:
    project = static_project(tmp_path / "workspace", "stats-cite-write")
    run, _ = job(action, tmp_path, "refs/tags/v1.3.0", citation="write", **{"dry-run": "true"})
    assert not run.failed, run.log()
    written = yaml.safe_load((project / "CITATION.cff").read_text(encoding="utf-8"))
    assert (written["cff-version"], written["version"], written["authors"]) == (
        "1.2.0", "1.3.0", [{"family-names": "Ward", "given-names": "Logan"}])
    again, _ = job(action, tmp_path, "refs/tags/v1.3.0", citation="check", **{"dry-run": "true"})
    assert not again.failed, again.log()
