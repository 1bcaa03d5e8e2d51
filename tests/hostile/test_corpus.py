"""Every hostile case through the real CLI: the right exit code, a message naming the file (and line and field
when there is one), no traceback, and the project left exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlhub_manifest.cli import cli

from . import generate
from .case import Case, handwritten, materialise, snapshot

CASES = [*handwritten(), *generate.cases()]
BY_NAME = {c.name: c for c in CASES}
NOBODY = 65534
# A few cases again through `python -m dlhub_manifest`, to see the real stderr of a crash-prone input.
SUBPROCESS = ["gen-nesting-flow-seq-500000-open", "gen-nesting-block-seq-100000-open", "gen-alias-laughs-10",
              "gen-tag-document-!!python/object/apply:os.system", "gen-size-2mb", "gen-encoding-utf-16",
              "gen-bytes-line1-ff", "gen-path-sklearn-servable.options.model-fifo", "gen-usage-format",
              "hand-050-manifest-is-a-fifo", "hand-030-glob-over-symlink-loops"]


def test_the_corpus_is_big_enough_and_names_are_unique() -> None:
    assert len(CASES) >= 300
    assert len(BY_NAME) == len(CASES)
    assert all(name in BY_NAME for name in SUBPROCESS)


@pytest.mark.parametrize("kind", sorted(generate.SERVABLES))
def test_every_base_manifest_is_valid_so_each_case_fails_for_its_own_reason(tmp_path: Path, kind: str) -> None:
    manifest = dict(generate.valid_projects())[kind]
    materialise(Case("base", manifest, "", files=generate.PROJECT), tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "dlhub.yaml")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{tmp_path / 'dlhub.yaml'}: ok"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case_is_refused_cleanly(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _project(case, tmp_path) as project:
        before = snapshot(project)
        monkeypatch.chdir(project)
        code, output = _run_unprivileged(case) if case.unprivileged and os.geteuid() == 0 else _run(case)
        assert_contract(case, code, output)
        assert snapshot(project) == before


@pytest.mark.parametrize("name", SUBPROCESS)
def test_case_in_a_real_process_has_no_traceback(name: str, tmp_path: Path) -> None:
    case = BY_NAME[name]
    project = materialise(case, tmp_path / "project")
    before = snapshot(project)
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", *case.args], cwd=project, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert_contract(case, proc.returncode, proc.stdout + proc.stderr)
    assert snapshot(project) == before


def test_an_unreadable_case_is_refused_because_of_the_permission(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Control for the privilege drop: the same project with its permissions intact validates as that user."""
    case = BY_NAME["hand-040-model-unreadable"]
    readable = Case("control", None, "", files=case.files, setup=tuple(a for a in case.setup if a[0] != "chmod"),
                    unprivileged=True)
    with _project(readable, tmp_path) as project:
        monkeypatch.chdir(project)
        code, output = _run_unprivileged(readable) if os.geteuid() == 0 else _run(readable)
    assert (code, output.strip()) == (0, "dlhub.yaml: ok")


def assert_contract(case: Case, code: int, output: str) -> None:
    """Exit code, message, file/line/field named together on one output line, and no traceback."""
    assert code == case.exit_code, output[-3000:]
    assert "Traceback" not in output
    assert case.message in output, output[-3000:]
    if case.file is None:
        return
    if case.exit_code == 2:  # click's usage errors name the file inside their message, not as a location
        assert any(case.file in ln and case.message in ln for ln in output.splitlines()), output[-3000:]
        return
    prefix = f"{case.file}:{case.line}:" if case.line is not None else f"{case.file}:"
    located = [ln for ln in output.splitlines() if ln.startswith(prefix) and case.message in ln]
    if case.field is not None:
        located = [ln for ln in located if f" {case.field}: " in ln]
    assert located, f"no line starting {prefix!r} with {case.message!r} and field {case.field!r}:\n{output[-3000:]}"


def _run(case: Case) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(case.args), catch_exceptions=False)
    return result.exit_code, result.output


@contextlib.contextmanager
def _project(case: Case, tmp_path: Path) -> Iterator[Path]:
    """The case's project: in tmp_path, or for an unprivileged run in a folder that user can reach."""
    if not (case.unprivileged and os.geteuid() == 0):
        yield materialise(case, tmp_path / "project")
        return
    # pytest's tmp folders are 0700 under /tmp/pytest-of-root; the dropped user must reach the project.
    with tempfile.TemporaryDirectory(prefix="dlhub-hostile-") as shared:
        Path(shared).chmod(0o755)
        yield materialise(case, Path(shared) / "project")


def _run_unprivileged(case: Case) -> tuple[int, str]:
    """Run the CLI in a forked child that dropped to `nobody`, so file permissions apply to it.

    Root reads anything, so an unreadable file is only unreadable to another user. The interpreter lives
    under /root (0700), so `nobody` cannot start Python: the child is forked from this one, after a
    warm-up run here imported every module the command needs (a usage error too: click formats it lazily).
    """
    _run(case)
    CliRunner().invoke(cli, ["validate", "--format", "warm-up"])
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and never returns
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with os.fdopen(write_end, "w") as out:
                json.dump(_run(case), out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        payload = inp.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"the unprivileged child failed (status {status})"
    code, output = json.loads(payload)
    return int(code), str(output)

