"""`-o` of build, package and new: `-` is stdout, links and special files are refused untouched, and an unusable
place is a clear usage error found before the model is inspected or any file hashed."""

from __future__ import annotations

import io
import os
import stat
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from publish_support import marking_project

RunCli = Callable[..., Result]
UNWRITABLE = Path("/proc/dlhub-manifest-test")  # refuses new files even to root, unlike a chmod-ed folder


@pytest.fixture
def servable(tmp_path: Path) -> Path:
    return marking_project(tmp_path / "servable")


def test_build_to_stdout_prints_the_document_and_writes_no_file(run_cli: RunCli, servable: Path,
                                                                 tmp_path: Path) -> None:
    printed = run_cli("build", str(servable), "-o", "-").stdout
    run_cli("build", str(servable), "-o", str(tmp_path / "file.json"))
    assert printed == (tmp_path / "file.json").read_text("utf-8")
    assert not (servable / "dlhub.json").exists() and not (servable / "-").exists()


def test_package_to_stdout_is_the_same_zip_as_to_a_file(run_cli: RunCli, servable: Path, tmp_path: Path) -> None:
    streamed = run_cli("package", str(servable), "-o", "-", cwd=tmp_path)
    run_cli("package", str(servable), "-o", str(tmp_path / "file.zip"))
    assert streamed.stdout_bytes == (tmp_path / "file.zip").read_bytes()
    assert sorted(zipfile.ZipFile(io.BytesIO(streamed.stdout_bytes)).namelist()) == ["app.py", "dlhub.json",
                                                                                     "dlhub.yaml"]
    assert "wrote stdout" in streamed.stderr and not (tmp_path / "-").exists()


def test_package_json_summary_and_stdout_zip_cannot_share_stdout(run_cli: RunCli, servable: Path) -> None:
    result = run_cli("package", str(servable), "-o", "-", "--format", "json", expect=2)
    assert "--format json and -o - would both write to stdout" in result.stderr


def _link(tmp_path: Path) -> Path:
    real = tmp_path / "real.out"
    real.write_text("keep me")
    link = tmp_path / "link.out"
    link.symlink_to(real)
    return link


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe.out"
    os.mkfifo(fifo)
    return fifo


def _device(tmp_path: Path) -> Path:
    device = tmp_path / "null.out"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    return device


@pytest.mark.parametrize(("command", "extra"), [("build", ()), ("package", ())])
@pytest.mark.parametrize(("make", "kind", "test"), [(_link, "a symbolic link", stat.S_ISLNK),
                                                     (_fifo, "a FIFO", stat.S_ISFIFO),
                                                     (_device, "a character device", stat.S_ISCHR)])
def test_links_and_special_files_are_refused_and_left_as_they_were(
        run_cli: RunCli, servable: Path, tmp_path: Path, command: str, extra: tuple[str, ...],
        make: Callable[[Path], Path], kind: str, test: Callable[[int], bool]) -> None:
    target = make(tmp_path)
    result = run_cli(command, str(servable), "-o", str(target), *extra, expect=2)
    assert result.stderr.startswith(f"error: {target} is {kind}; refusing to replace it with a regular file")
    assert test(target.lstat().st_mode)
    assert not (servable / "inspected").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc as a folder nobody can write")
@pytest.mark.parametrize("command", ["build", "package"])
def test_an_unwritable_folder_is_refused_before_the_model_is_inspected(run_cli: RunCli, servable: Path,
                                                                      command: str) -> None:
    result = run_cli(command, str(servable), "-o", str(UNWRITABLE / "out"), expect=2)
    assert result.stderr.startswith(f"error: cannot write {UNWRITABLE / 'out'}: the folder /proc is not writable")
    assert not (servable / "inspected").exists()


def test_a_file_in_place_of_a_folder_is_refused(run_cli: RunCli, servable: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")
    out = tmp_path / "notes.txt" / "sub" / "servable.zip"
    result = run_cli("package", str(servable), "-o", str(out), expect=2)
    assert result.stderr == f"error: cannot write {out}: {tmp_path / 'notes.txt'} is not a folder\n"
    assert not (servable / "inspected").exists()


def test_missing_folders_are_created(run_cli: RunCli, servable: Path, tmp_path: Path) -> None:
    run_cli("package", str(servable), "-o", str(tmp_path / "dist" / "v1" / "s.zip"))
    assert zipfile.is_zipfile(tmp_path / "dist" / "v1" / "s.zip")


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: Path("-"), "a project is a folder and cannot be written to standard output"),
    (_link, "is a symbolic link; choose a real folder with -o"),
    (lambda tmp: UNWRITABLE / "demo", "the folder /proc is not writable"),
])
def test_new_refuses_stdout_links_and_unwritable_places(run_cli: RunCli, tmp_path: Path,
                                                        make: Callable[[Path], Path], message: str) -> None:
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc")
    target = make(tmp_path)
    result = run_cli("new", "--no-input", "--name", "demo", "-o", str(target), expect=2, cwd=tmp_path)
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["link.out", "real.out"])


def test_package_to_stdout_from_a_real_process(servable: Path, tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "piped.zip"
    with open(out, "wb") as fh:
        proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "package", str(servable), "-o", "-",
                               ], stdout=fh, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert zipfile.ZipFile(out).read("app.py").decode() == (servable / "app.py").read_text()


@pytest.mark.parametrize("make", [_link, _fifo])
def test_export_and_import_refuse_links_and_special_files_too(run_cli: RunCli, servable: Path, tmp_path: Path,
                                                              make: Callable[[Path], Path]) -> None:
    (tmp_path / "doc.json").write_text("{}")  # never read: the output is refused first
    target = make(tmp_path)
    kind = "a symbolic link" if target.is_symlink() else "a FIFO"
    for args in (("export", str(servable), "--to", "cff"), ("import", str(tmp_path / "doc.json"), "--force")):
        result = run_cli(*args, "-o", str(target), expect=2)
        assert result.stderr.startswith(f"error: {target} is {kind}; refusing to replace it with a regular file")
        assert target.is_symlink() or stat.S_ISFIFO(target.lstat().st_mode)
