"""The GitHub Action's logic without GitHub: tag versions, output files, the job summary, provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlhub_manifest.ci.action import choose_target, github_provenance, publication_version
from dlhub_manifest.ci.github import Publication, append_to, error_command, format_outputs, version_from_ref
from dlhub_manifest.errors import UsageError


@pytest.mark.parametrize(("ref", "version"), [
    ("refs/tags/v1.2.0", "1.2.0"),
    ("refs/tags/V2.0.1", "2.0.1"),
    ("refs/tags/1.0.0-rc.1+build.5", "1.0.0-rc.1+build.5"),
    ("refs/heads/main", None),
    ("refs/pull/7/merge", None),
    ("", None),
    (None, None),
])
def test_version_from_ref(ref: str | None, version: str | None) -> None:
    assert version_from_ref(ref) == version


@pytest.mark.parametrize("tag", ["release-7", "v1.2", "v01.2.3", "vv1.2.3"])
def test_a_tag_that_names_no_semantic_version_is_refused_with_the_expected_form(tag: str) -> None:
    with pytest.raises(UsageError, match=rf"tag '{tag}' does not name a semantic version; tag releases as "
                                         r"vMAJOR\.MINOR\.PATCH"):
        version_from_ref(f"refs/tags/{tag}")


def test_outputs_are_name_value_lines_and_multiline_values_use_a_heredoc() -> None:
    text = format_outputs({"task-id": "abc", "message": "two\nlines"})
    first, *rest = text.splitlines()
    assert first == "task-id=abc"
    assert rest[0].startswith("message<<ghadelimiter_") and rest[1:3] == ["two", "lines"]
    assert rest[3] == rest[0].split("<<")[1]
    assert text.endswith("\n")


def test_append_to_adds_to_the_file_and_ignores_an_unset_path(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("earlier=1\n")
    append_to(path, "later=2\n")
    append_to(None, "lost=3\n")
    assert path.read_text() == "earlier=1\nlater=2\n"


def test_error_command_escapes_what_would_end_the_command() -> None:
    expected = "::error title=a%3Ab%2Cc::50%25 done%0Athen: failed"
    assert error_command("50% done\nthen: failed", title="a:b,c") == expected


def test_summary_of_a_success_links_the_document() -> None:
    url = "http://r/servables/alice/iris/versions/1.2.0"
    pub = Publication("alice/iris", "1.2.0", "t-1", "succeeded", url, "http://r", message="published alice/iris@1.2.0")
    summary = pub.summary()
    assert summary.startswith("### dlhub-manifest: published `alice/iris`\n")
    for row in ("| servable | `alice/iris` |", "| version | `1.2.0` |", "| task | `t-1` |",
                "| status | **succeeded** |",
                f"| document | [{url}]({url}) |"):
        assert row in summary.splitlines()
    assert pub.ok
    assert pub.outputs() == {"task-id": "t-1", "servable": "alice/iris", "version": "1.2.0", "status": "succeeded",
                             "document-url": url}


def test_summary_of_a_local_success_says_how_to_show_it() -> None:
    assert "| document | `dlhub-manifest show me/iris@1.0.0` |" in Publication("me/iris", "1.0.0", "t",
                                                                                "succeeded").summary()


@pytest.mark.parametrize(("pub", "ok", "heading"), [
    (Publication("a/b", "1.0.0", "t", "failed", message="already | published"), False, "publishing `a/b` failed"),
    (Publication("a/b", "1.0.0", "t", "running", timed_out=True), False, "publishing `a/b` failed"),
    (Publication("a/b", "", "t", "queued"), True, "submitted `a/b`"),
    (Publication("b", "", dry_run=True), True, "dry run, nothing was published"),
])
def test_failed_timed_out_submitted_and_dry_run(pub: Publication, ok: bool, heading: str) -> None:
    assert pub.ok is ok
    assert pub.summary().startswith(f"### dlhub-manifest: {heading}\n")


def test_a_pipe_in_a_task_message_does_not_break_the_table() -> None:
    summary = Publication("a/b", "1.0.0", "t", "failed", message="x | y").summary()
    assert "| message | x \\| y |" in summary.splitlines()


@pytest.mark.parametrize(("manifest", "asked", "chosen"), [
    (None, "1.2.0", "1.2.0"), ("1.2.0", None, "1.2.0"), ("1.2.0", "1.2.0", "1.2.0"), (None, None, None)])
def test_publication_version(manifest: str | None, asked: str | None, chosen: str | None) -> None:
    assert publication_version(manifest, asked) == chosen


def test_a_tag_that_disagrees_with_the_manifest_version_is_refused() -> None:
    with pytest.raises(UsageError, match="tag asks for version 1.3.0 but dlhub.yaml says `version: 1.2.0`"):
        publication_version("1.2.0", "1.3.0")


def test_provenance_names_the_repository_commit_and_ref() -> None:
    env = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "lab/iris",
           "GITHUB_SHA": "0123abcd" * 5, "GITHUB_REF_NAME": "v1.2.0"}
    assert github_provenance(env) == {"repository": "https://github.example/lab/iris", "commit": "0123abcd" * 5,
                                      "ref": "v1.2.0"}
    assert github_provenance({}) == {}


def test_publishing_needs_a_target_unless_a_registry_folder_is_configured(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="set the action's `target` input"):
        choose_target("", {})
    local = choose_target("", {"DLHUB_MANIFEST_REGISTRY": str(tmp_path)})
    assert str(tmp_path) in local.description
