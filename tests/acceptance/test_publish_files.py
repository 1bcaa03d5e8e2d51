"""`publish`, `status`, `list`, `show`, `search`, `registry check` through the CLI, against a real local registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from publish_support import make_project

from dlhub_manifest.registry.worker import try_lock

RunCli = Callable[..., Result]



def run_main(*args: str, env_root: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point in a subprocess (exit codes and error messages as users see them)."""
    env = {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(env_root)}
    return subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def task_id_of(result: Result) -> str:
    line = next(x for x in result.stdout.splitlines() if x.startswith("task "))
    return line.split()[1]


def test_publish_waits_and_the_version_is_listed_shown_and_found(run_cli: RunCli, registry: Path,
                                                                 tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    published = run_cli("publish", str(project), "--no-inspect", "--wait")
    assert published.stdout.startswith("task ")
    assert "succeeded: published" in published.stdout and "/demo@0.1.0 (3 files" in published.stdout
    assert "hashing and storing 3 file(s)" in published.stderr
    assert "nothing to upload" not in published.stderr  # the files were stored while hashed, not uploaded

    listed = json.loads(run_cli("list", "--format", "json").stdout)
    assert [(s["name"], s["latest"], s["versions"]) for s in listed] == [("demo", "0.1.0", ["0.1.0"])]
    owner = listed[0]["owner"]
    shown = json.loads(run_cli("show", f"{owner}/demo@0.1.0", "--format", "json").stdout)
    assert [f["path"] for f in shown["files"]] == ["demo.py", "dlhub.yaml", "weights.bin"]
    assert shown["document"]["dlhub"]["owner"] == owner and shown["provenance"]["source"] == "files"
    text = run_cli("show", "demo").stdout
    assert f"{owner}/demo@0.1.0: Demo servable" in text and "weights.bin" in text
    assert json.loads(run_cli("search", "doubles ward", "--format", "json").stdout)[0]["name"] == "demo"
    assert "no servable matches" in run_cli("search", "nothing-like-this").stdout
    check = run_cli("registry", "check")
    assert "1 version(s), 3 blob(s)" in check.stdout and check.stdout.rstrip().endswith("ok")


def test_no_wait_returns_a_task_that_status_follows(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    submitted = run_cli("publish", str(make_project(tmp_path / "p")), "--no-inspect", "--no-wait")
    task_id = task_id_of(submitted)
    assert "succeeded" not in submitted.stdout
    followed = run_cli("status", task_id, "--wait", "--timeout", "60")
    assert followed.stdout.startswith("succeeded: published")
    status = json.loads(run_cli("status", task_id, "--format", "json").stdout)
    assert status["status"] == "succeeded" and status["result"]["version"] == "0.1.0"
    assert [m["text"] for m in status["messages"]][:2] == ["queued", "running"]


def test_publishing_again_unchanged_says_already_published(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    run_cli("publish", str(project), "--no-inspect", "--wait")
    again = run_cli("publish", str(project), "--no-inspect", "--wait", "--format", "json")
    status = json.loads(again.stdout)
    assert status["status"] == "succeeded" and status["result"]["already_published"] is True
    assert "already published" in status["messages"][-1]["text"]


def test_version_clash_fails_with_exit_1_and_leaves_the_registry_clean(run_cli: RunCli, registry: Path,
                                                                        tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", version="1.0.0")
    run_cli("publish", str(project), "--no-inspect", "--wait")
    (project / "weights.bin").write_bytes(b"retrained weights")
    plan = run_cli("publish", str(project), "--no-inspect", "--dry-run", expect=1)
    assert "already published with different content" in plan.stdout
    failed = run_cli("publish", str(project), "--no-inspect", "--wait", expect=1)
    assert "failed:" in failed.stdout and "immutable" in failed.stdout and "1.0.1" in failed.stdout
    assert run_cli("registry", "check").stdout.rstrip().endswith("ok")


def test_dry_run_prints_the_plan_and_writes_nothing(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    plan = run_cli("publish", str(project), "--no-inspect", "--dry-run")
    assert "dry run: would publish" in plan.stdout and "version: 0.1.0 (first version)" in plan.stdout
    assert plan.stdout.count("new   ") == 3 and "nothing was written" in plan.stdout
    assert not registry.exists()
    run_cli("publish", str(project), "--no-inspect", "--wait")
    (project / "demo.py").write_text("def run(x):\n    return x\n", encoding="utf-8")
    data = json.loads(run_cli("publish", str(project), "--no-inspect", "--dry-run", "--format", "json").stdout)
    assert data["version"] == "0.1.1" and data["latest"] == "0.1.0" and data["dry_run"] is True
    assert [f["path"] for f in data["files"] if f["new"]] == ["demo.py"]


def test_missing_file_is_a_located_error_and_nothing_is_written(registry: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "weights.bin").unlink()
    result = run_main("publish", str(project), "--no-inspect", "--wait", env_root=registry)
    assert result.returncode == 1
    assert "dlhub.yaml:15:9: files[0]: 'weights.bin' matches no file" in result.stderr
    assert "1 problem in 1 file" in result.stderr and "Traceback" not in result.stderr
    assert not registry.exists()


def test_status_timeout_and_unknown_task_exit_1(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    registry.mkdir(parents=True)
    holder = try_lock(registry)  # no worker may run: the task stays queued
    try:
        task_id = task_id_of(run_cli("publish", str(make_project(tmp_path / "p")), "--no-inspect", "--no-wait"))
        waited = run_main("status", task_id, "--wait", "--timeout", "0.3", env_root=registry)
        assert waited.returncode == 1 and "still queued after 0.3 s" in waited.stderr
    finally:
        assert holder is not None
        holder.close()
    unknown = run_main("status", "no-such-task", env_root=registry)
    assert unknown.returncode == 1 and "no task 'no-such-task'" in unknown.stderr


def test_show_unknown_servable_and_bad_reference(registry: Path) -> None:
    missing = run_main("show", "someone/nothing", env_root=registry)
    assert missing.returncode == 1 and "someone/nothing is not in the registry" in missing.stderr
    bad = run_main("show", "a/b/c", env_root=registry)
    assert bad.returncode == 2 and "'a/b/c' is not a servable reference: it has more than one '/'" in bad.stderr


def test_registry_check_fails_on_a_corrupt_blob(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    run_cli("publish", str(make_project(tmp_path / "p")), "--no-inspect", "--wait")
    blob = next(p for p in (registry / "blobs").glob("*/*") if p.parent.name != "tmp")
    blob.chmod(0o644)
    blob.write_bytes(b"flipped bits")
    report = json.loads(run_cli("registry", "check", "--format", "json", expect=1).stdout)
    assert report["ok"] is False and blob.name in report["errors"][0] and "corrupt" in report["errors"][0]
    assert run_cli("registry", "path").stdout.strip() == str(registry)


def test_build_and_a_first_publish_agree_on_the_version_when_none_is_given(run_cli: RunCli, registry: Path,
                                                                             tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    built = run_cli("build", str(project), "--no-inspect", "-o", str(tmp_path / "dlhub.json"))
    assert "note: dlhub.yaml sets no `version`: the document says 0.1.0" in built.stderr
    document = json.loads((tmp_path / "dlhub.json").read_text())
    status = json.loads(run_cli("publish", str(project), "--no-inspect", "--wait", "--format", "json").stdout)
    assert document["dlhub"]["version"] == document["datacite"]["version"] == status["result"]["version"]
    pinned = make_project(tmp_path / "pinned", version="2.0.0")
    assert "note:" not in run_cli("build", str(pinned), "--no-inspect", "-o", str(tmp_path / "pinned.json")).stderr
