"""File selection (globs, excludes, .gitignore, required paths, safety) and streamed hashing."""

from __future__ import annotations

import hashlib
import os
import stat
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.manifest.globs import GlobSet
from dlhub_manifest.package.select import FileEntry, FileSelectionError, file_mode, hash_file, scan, select_files


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def sklearn(**extra: Any) -> dict[str, Any]:
    return {"servable": {"type": "sklearn", "options": {"model": "model.pkl"}}, **extra}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make(tmp_path / "proj", {
        "dlhub.yaml": "name: x\n", "model.pkl": b"\x80model", "README.md": "readme",
        "src/app.py": "x = 1\n", "src/pkg/util.py": "y = 2\n", "src/pkg/data.csv": "1,2\n",
        "tests/test_app.py": "", ".env": "SECRET=1", "src/.hidden.py": "",
    })


# --- globs -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("*.py", "app.py", True),
    ("*.py", "src/app.py", False),           # like glob: '*' stays in its segment
    ("**/*.py", "app.py", True),             # '**' spans zero directories too
    ("**/*.py", "src/pkg/util.py", True),
    ("src/**", "src/pkg/util.py", True),
    ("src", "src/pkg/util.py", True),        # a matched directory selects everything under it
    ("*.py", ".hidden.py", False),           # wildcards never match a leading dot
    ("**/*.py", ".venv/lib/x.py", False),    # nor does '**' enter hidden directories
    (".env", ".env", True),                  # a literal dot name is fine
    ("data/?.csv", "data/a.csv", True),
    ("data/[ab].csv", "data/c.csv", False),
    ("**", "src/.hidden.py", False),         # a trailing '**' keeps glob's hidden-name rule all the way down
    ("src/*", "src/pkg/.hidden", True),      # but a directory matched by name ships whole
])
def test_glob_semantics_follow_python_glob(pattern: str, path: str, expected: bool) -> None:
    assert GlobSet([pattern]).matches(path) is expected


def test_glob_pruning_knows_which_directories_can_hold_matches() -> None:
    globs = GlobSet(["src/pkg/*.py"])
    assert globs.may_match_under("src")
    assert globs.may_match_under("src/pkg")
    assert not globs.may_match_under("tests")
    assert GlobSet(["**/*.py"]).may_match_under("anything/deep")


# --- selection ---------------------------------------------------------------------------------------------------

def test_no_files_field_selects_only_what_the_servable_needs(project: Path) -> None:
    assert select_files(project, sklearn()) == ["dlhub.yaml", "model.pkl"]


def test_globs_select_sorted_unique_paths(project: Path) -> None:
    got = select_files(project, sklearn(files=["src/**/*.py", "src/app.py", "model.pkl"]))
    assert got == ["dlhub.yaml", "model.pkl", "src/app.py", "src/pkg/util.py"]


def test_include_exclude_mapping(project: Path) -> None:
    got = select_files(project, sklearn(files={"include": ["**"], "exclude": ["tests/**", "**/*.csv"]}))
    assert got == ["README.md", "dlhub.yaml", "model.pkl", "src/app.py", "src/pkg/util.py"]


def test_exclude_only_mapping_means_everything_else(project: Path) -> None:
    got = select_files(project, sklearn(files={"exclude": ["src", "tests"]}))
    assert got == ["README.md", "dlhub.yaml", "model.pkl"]


def test_hidden_files_are_not_picked_by_wildcards(project: Path) -> None:
    got = select_files(project, sklearn(files=["**"]))
    assert ".env" not in got and "src/.hidden.py" not in got
    assert "src/pkg/data.csv" in got


def test_root_and_nested_gitignore_are_honoured(project: Path) -> None:
    make(project, {".gitignore": "*.csv\nbuild/\n!keep.csv\n", "src/.gitignore": "app.py\n",
                   "build/out.py": "", "keep.csv": "k", "src/pkg/keep.csv": "k2"})
    got = select_files(project, sklearn(files=["**"]))
    assert "src/pkg/data.csv" not in got          # root *.csv
    assert "build/out.py" not in got              # directory pattern
    assert "src/app.py" not in got                # nested .gitignore, relative to its folder
    assert {"keep.csv", "src/pkg/keep.csv", "src/pkg/util.py"} <= set(got)  # negation wins


def test_nested_gitignore_can_reinclude_what_the_root_ignores(project: Path) -> None:
    make(project, {".gitignore": "*.csv\n", "src/pkg/.gitignore": "!data.csv\n"})
    assert "src/pkg/data.csv" in select_files(project, sklearn(files=["**"]))


def test_required_and_literal_paths_are_kept_even_when_gitignored(project: Path) -> None:
    make(project, {".gitignore": "*.pkl\n*.md\n"})
    got = select_files(project, sklearn(files=["README.md", "*.md"]))
    assert got == ["README.md", "dlhub.yaml", "model.pkl"]


def test_excludes_apply_to_literal_includes_but_not_to_required_files(project: Path) -> None:
    got = select_files(project, sklearn(files={"include": ["README.md", "src"], "exclude": ["README.md",
                                                                                           "model.pkl", "**/*.csv"]}))
    # `src` names a directory outright: everything under it ships, hidden files included.
    assert got == ["dlhub.yaml", "model.pkl", "src/.hidden.py", "src/app.py", "src/pkg/util.py"]


def test_dot_git_is_always_left_out(project: Path) -> None:
    make(project, {".git/config": "[core]\n", "sub/.git": "gitdir: ../.git/modules/sub\n", "sub/a.py": ""})
    got = select_files(project, sklearn(files={"include": ["**", ".git/**", "sub/.git"]}))
    assert not any(p == ".git" or p.startswith(".git/") or p.endswith("/.git") for p in got)
    assert "sub/a.py" in got


def test_directory_model_ships_every_file_under_it(tmp_path: Path) -> None:
    proj = make(tmp_path, {"dlhub.yaml": "", "saved/saved_model.pb": b"pb",
                           "saved/variables/variables.index": b"i", "saved/.meta": b"m", "other.txt": ""})
    data = {"servable": {"type": "tensorflow", "options": {"model": "saved/"}}}
    assert select_files(proj, data) == ["dlhub.yaml", "saved/.meta", "saved/saved_model.pb",
                                        "saved/variables/variables.index"]


def test_static_method_module_and_requirements_are_required(tmp_path: Path) -> None:
    proj = make(tmp_path, {"dlhub.yml": "", "mypkg/model/__init__.py": "", "reqs/requirements.txt": "numpy\n",
                           "mypkg/other.py": ""})
    data = {"servable": {"type": "static_method", "options": {"function": "mypkg.model:run"}},
            "dependencies": {"requirements": "reqs/requirements.txt"}}
    assert select_files(proj, data) == ["dlhub.yml", "mypkg/model/__init__.py", "reqs/requirements.txt"]


def test_missing_required_files_are_all_listed(tmp_path: Path) -> None:
    proj = make(tmp_path, {"dlhub.yaml": ""})
    data = {"servable": {"type": "static_method", "options": {"function": "app:run"}},
            "dependencies": {"requirements": "requirements.txt"}}
    with pytest.raises(FileSelectionError) as err:
        select_files(proj, data)
    assert len(err.value.problems) == 2
    assert "module 'app' is not in the project (looked for app.py and app/__init__.py)" in str(err.value)
    assert "dependencies.requirements: 'requirements.txt' does not exist" in str(err.value)
    assert isinstance(err.value, DLHubManifestError)


def test_symlink_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    secret = make(tmp_path / "outside", {"secret.txt": "s"})
    (project / "src" / "link.py").symlink_to(secret / "secret.txt")
    (project / "linkdir").symlink_to(secret, target_is_directory=True)
    with pytest.raises(FileSelectionError) as err:
        select_files(project, sklearn(files=["src/*.py", "linkdir/*.txt"]))
    text = str(err.value)
    assert "'src/link.py' is a symlink that points outside the project" in text
    assert "'linkdir' is a symlink that points outside the project" in text
    assert len(err.value.problems) == 2


def test_symlink_out_is_not_a_problem_when_nothing_selects_it(project: Path, tmp_path: Path) -> None:
    outside = make(tmp_path / "outside", {"secret.txt": "s"})
    (project / "linkdir").symlink_to(outside, target_is_directory=True)
    assert "src/app.py" in select_files(project, sklearn(files=["src/*.py"]))


def test_dotdot_in_a_pattern_or_model_path_is_refused(project: Path) -> None:
    with pytest.raises(FileSelectionError, match=r"'\.\./x' leaves the project through '\.\.'"):
        select_files(project, sklearn(files=["../x"]))
    data = {"servable": {"type": "sklearn", "options": {"model": "../model.pkl"}}}
    with pytest.raises(FileSelectionError, match=r"servable.options.model: '\.\./model.pkl' leaves the project"):
        select_files(project, data)


def test_symlinks_inside_the_project_are_followed_as_content(project: Path) -> None:
    (project / "alias.py").symlink_to(project / "src" / "app.py")
    (project / "pkglink").symlink_to(project / "src" / "pkg", target_is_directory=True)
    (project / "src" / "pkg" / "loop").symlink_to(project / "src", target_is_directory=True)
    got = select_files(project, sklearn(files=["alias.py", "pkglink/**"]))
    assert {"alias.py", "pkglink/util.py", "pkglink/data.csv"} <= set(got)
    assert "pkglink/loop/app.py" in got  # one trip through the link is content; the loop is not walked again
    assert not any(p.count("loop") > 1 for p in got)


def test_device_and_fifo_files_are_refused(project: Path) -> None:
    os.mkfifo(project / "pipe")
    (project / "null").symlink_to("/dev/null")
    with pytest.raises(FileSelectionError) as err:
        select_files(project, sklearn(files=["pipe"]))
    assert "'pipe' is not a regular file or directory" in str(err.value)
    with pytest.raises(FileSelectionError, match="'null' is a symlink that points outside the project"):
        select_files(project, sklearn(files=["null"]))


def test_unreadable_file_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI containers), so make the access check itself say "no" for this file.
    real_access = os.access
    monkeypatch.setattr("dlhub_manifest.manifest.paths.os.access",
                        lambda p, mode: not str(p).endswith("app.py") and real_access(p, mode))
    with pytest.raises(FileSelectionError, match="'src/app.py' is not readable"):
        select_files(project, sklearn(files=["src/*.py"]))


def test_leave_out_keeps_an_output_zip_out_of_the_selection(project: Path) -> None:
    make(project, {"dist/servable.zip": b"PK"})
    assert "dist/servable.zip" not in select_files(project, sklearn(files=["**"]), leave_out=["dist/servable.zip"])


# --- hashing -----------------------------------------------------------------------------------------------------

def test_hash_file_matches_hashlib_and_reports_size(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 + 7)
    (tmp_path / "f").write_bytes(data)
    chunks: list[bytes] = []
    assert hash_file(tmp_path / "f", 1024, sink=lambda c: chunks.append(bytes(c))) == (
        hashlib.sha256(data).hexdigest(), len(data))
    assert b"".join(chunks) == data and len(chunks) == 4


def test_hash_file_of_50_mb_stays_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    expected = hashlib.sha256()
    with path.open("wb") as fh:
        for i in range(50):
            piece = block[i:] + block[:i]
            fh.write(piece)
            expected.update(piece)
    tracemalloc.start()
    try:
        digest, size = hash_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (digest, size) == (expected.hexdigest(), 50 << 20)
    assert peak < 3 << 20, f"peak {peak} bytes while hashing 50 MiB"


def test_scan_hashes_modes_and_progress(project: Path) -> None:
    (project / "src" / "app.py").chmod(0o750)
    calls: list[tuple[int, int]] = []
    entries = scan(project, ["model.pkl", "src/app.py"], progress=lambda done, total: calls.append((done, total)))
    assert entries == [
        FileEntry("model.pkl", 6, hashlib.sha256(b"\x80model").hexdigest(), 0o644),
        FileEntry("src/app.py", 6, hashlib.sha256(b"x = 1\n").hexdigest(), 0o755),
    ]
    assert calls[-1] == (12, 12) and all(total == 12 for _, total in calls)
    assert file_mode(project / "README.md") == 0o644


def test_scan_lists_every_unusable_path(project: Path) -> None:
    with pytest.raises(FileSelectionError) as err:
        scan(project, ["missing.bin", "../escape", "src"])
    assert len(err.value.problems) == 3
    assert "'src' is a directory; a file is expected" in str(err.value)


def test_file_mode_uses_only_the_execute_bit(tmp_path: Path) -> None:
    path = make(tmp_path, {"run.sh": "#!/bin/sh\n"}) / "run.sh"
    path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    assert file_mode(path) == 0o755
