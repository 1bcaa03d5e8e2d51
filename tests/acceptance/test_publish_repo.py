"""`publish --repo`: real git repositories made in tmp_path, pinned commits, tags, dirty trees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from publish_support import git, make_repo

RunCli = Callable[..., Result]



def published(run_cli: RunCli, *args: str, expect: int = 0) -> dict:  # type: ignore[type-arg]
    result = run_cli("publish", "--repo", *args, "--no-inspect", "--wait", "--format", "json", expect=expect)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def show(run_cli: RunCli, ref: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run_cli("show", ref, "--format", "json").stdout)  # type: ignore[no-any-return]


def test_tagged_repository_publishes_its_commit_with_the_tag_version(run_cli: RunCli, registry: Path,
                                                                      tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v1.2.0")
    head = git(repo, "rev-parse", "HEAD")
    status = published(run_cli, str(repo))
    assert status["status"] == "succeeded", status["messages"]
    assert status["result"]["version"] == "1.2.0"
    found = show(run_cli, "demo@1.2.0")
    provenance = found["document"]["provenance"]
    assert provenance["commit"] == head and provenance["ref"] == "v1.2.0"
    assert provenance["repository"] == repo.resolve().as_uri()  # no remote: the normalised path
    assert found["provenance"]["source"] == "repository"
    assert [f["path"] for f in found["files"]] == ["demo.py", "dlhub.yaml", "weights.bin"]
    assert run_cli("registry", "check").stdout.rstrip().endswith("ok")


def test_remote_url_is_recorded_normalised_and_without_credentials(run_cli: RunCli, registry: Path,
                                                                    tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "origin", "https://someone:s3cret@github.com/lab/demo.git")
    status = published(run_cli, str(repo))
    assert status["status"] == "succeeded", status["messages"]
    assert show(run_cli, "demo")["document"]["provenance"]["repository"] == "https://github.com/lab/demo"


def test_dirty_tree_is_refused_unless_allowed_and_then_the_commit_is_published(run_cli: RunCli, registry: Path,
                                                                                tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "weights.bin").write_bytes(b"uncommitted weights")
    (repo / "dlhub.yaml").write_text((repo / "dlhub.yaml").read_text().replace("Demo servable", "Uncommitted"))
    env = {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(registry)}
    refused = subprocess.run([sys.executable, "-m", "dlhub_manifest", "publish", "--repo", str(repo), "--wait"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1
    assert "uncommitted changes: dlhub.yaml, weights.bin" in refused.stderr and "--allow-dirty" in refused.stderr
    assert not registry.exists()

    status = published(run_cli, str(repo), "--allow-dirty")
    assert status["status"] == "succeeded", status["messages"]
    found = show(run_cli, "demo")
    assert found["document"]["provenance"]["dirty"] is True  # a JSON boolean, as the document schema says
    assert found["document"]["datacite"]["titles"][0]["title"] == "Demo servable"  # dlhub.yaml at the commit
    weights = next(f for f in found["files"] if f["path"] == "weights.bin")
    assert weights["size"] == len(b"weights v1\n")  # the committed bytes, not the working tree's


def test_a_tag_that_is_not_a_version_is_said(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="2.1")
    result = run_cli("publish", "--repo", str(repo), "--ref", "2.1", "--no-inspect", "--wait")
    assert ("note: tag 2.1 is not a version (MAJOR.MINOR.PATCH such as 2.1.0), so the registry assigns the next "
            "patch; tag the commit v2.1.0 or set `version:` in dlhub.yaml to choose it") in result.stderr
    assert "published" in result.stdout and "demo@0.1.0" in result.stdout


def test_the_tools_own_outputs_do_not_make_the_tree_dirty(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    run_cli("build", str(repo), "--no-inspect")  # dlhub.json beside the manifest, untracked
    run_cli("package", str(repo), "--no-inspect", cwd=repo)  # servable.zip, untracked
    status = published(run_cli, str(repo))
    assert status["status"] == "succeeded", status["messages"]
    assert show(run_cli, "demo")["document"]["provenance"].get("dirty") is None
    (repo / "notes.txt").write_text("draft")
    result = run_cli("publish", "--repo", str(repo), "--no-inspect", expect=1)
    assert "uncommitted changes: notes.txt;" in result.stderr


def test_ref_pins_an_older_release_and_manifest_version_wins_over_tags(run_cli: RunCli, registry: Path,
                                                                        tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v1.0.0")
    (repo / "weights.bin").write_bytes(b"weights v2\n")
    git(repo, "commit", "-qam", "retrain")
    git(repo, "tag", "v2.0.0")
    assert published(run_cli, str(repo), "--ref", "v1.0.0")["result"]["version"] == "1.0.0"
    assert published(run_cli, str(repo))["result"]["version"] == "2.0.0"
    assert show(run_cli, "demo")["versions"] == ["1.0.0", "2.0.0"]
    (repo / "dlhub.yaml").write_text((repo / "dlhub.yaml").read_text() + "version: 3.1.0\n")
    git(repo, "commit", "-qam", "pin version")
    git(repo, "tag", "v9.9.9")
    assert published(run_cli, str(repo))["result"]["version"] == "3.1.0"


def test_url_source_is_cloned_and_unknown_ref_is_a_clear_error(run_cli: RunCli, registry: Path,
                                                                tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v0.3.0")
    status = published(run_cli, repo.resolve().as_uri())
    assert status["status"] == "succeeded" and status["result"]["version"] == "0.3.0"
    env = {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(registry)}
    bad = subprocess.run([sys.executable, "-m", "dlhub_manifest", "publish", "--repo", str(repo), "--ref", "v7"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and "ref 'v7' not found" in bad.stderr


def test_dry_run_of_a_repository_lists_the_commit_files(run_cli: RunCli, registry: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v1.0.0")
    plan = json.loads(run_cli("publish", "--repo", str(repo), "--no-inspect", "--dry-run", "--format",
                              "json").stdout)
    assert plan["version"] == "1.0.0" and plan["version_source"] == "tag v1.0.0"
    assert [f["path"] for f in plan["files"]] == ["demo.py", "dlhub.yaml", "weights.bin"]
    assert not registry.exists()
