"""The scaffold library: defaults, input checks, and generating a project without leaving debris."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dlhub_manifest.ci import scaffold as scaffold
from dlhub_manifest.ci.scaffold import ProjectSpec, ScaffoldError, create_project
from dlhub_manifest.errors import UsageError
from dlhub_manifest.manifest.validate import validate_path
from dlhub_manifest.util.resources import manifest_schema


def spec(**changes: str) -> ProjectSpec:
    values = {"servable_type": "sklearn", "name": "iris", "title": "Iris", "author": "Ward, Logan", **changes}
    return ProjectSpec(**values)


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".dlhub-new-")]


def test_the_template_offers_exactly_the_schema_servable_types() -> None:
    enum = manifest_schema()["properties"]["servable"]["properties"]["type"]["enum"]
    assert sorted(scaffold.servable_types()) == sorted(enum)
    assert scaffold.servable_types()[0] == "sklearn"


@pytest.mark.parametrize(("folder", "expected"), [
    ("iris-classifier", "iris-classifier"),
    ("Demo", "demo"),
    ("My Project", "pytorch-servable"),
    ("-leading-dash", "pytorch-servable"),
])
def test_default_name_comes_from_the_folder_when_it_is_a_valid_name(folder: str, expected: str,
                                                                    tmp_path: Path) -> None:
    assert scaffold.default_name("pytorch", tmp_path / folder) == expected


def test_default_name_without_a_folder_names_the_type() -> None:
    assert scaffold.default_name("static_method") == "static-method-servable"


def test_default_title_reads_like_words() -> None:
    assert scaffold.default_title("iris_species-classifier.v2") == "Iris species classifier v2"


@pytest.mark.parametrize(("given", "expected"), [
    ("Logan Ward", "Ward, Logan"),
    ("Ward, Logan", "Ward, Logan"),
    ("Ana María García", "García, Ana María"),
    ("Plato", None),
    ("", None),
])
def test_as_family_given(given: str, expected: str | None) -> None:
    assert scaffold.as_family_given(given) == expected


def _git_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str | None) -> None:
    config = tmp_path / "gitconfig"
    config.write_text(f"[user]\n\tname = {name}\n" if name else "")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)


def test_default_author_is_the_git_user_in_family_given_form(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    _git_user(monkeypatch, tmp_path, "Ben Blaiszik")
    assert scaffold.default_author() == "Blaiszik, Ben"


@pytest.mark.parametrize("name", [None, "ben"])
def test_default_author_falls_back_to_a_placeholder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    name: str | None) -> None:
    _git_user(monkeypatch, tmp_path, name)
    assert scaffold.default_author() == "Doe, Jane"


@pytest.mark.parametrize(("changes", "message"), [
    ({"servable_type": "onnx"}, "unknown servable type 'onnx'; choose one of sklearn"),
    ({"name": "Iris Classifier"}, "not a valid servable name"),
    ({"name": "a" * 65}, "at most 64 characters"),
    ({"title": "two\nlines"}, "title contains a line break"),
    ({"title": " "}, "title must be 1 to 300 characters"),
    ({"author": "Plato"}, 'not written as "Family, Given"'),
    ({"license": "Apache 2.0"}, "did you mean 'Apache-2.0'?"),
])
def test_check_spec_refuses_what_the_manifest_would_reject(changes: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("?", r"\?").replace("(", r"\(")):
        scaffold.check_spec(spec(**changes))


def test_next_steps_train_only_types_that_have_a_model() -> None:
    assert "python train.py" in scaffold.next_steps("pytorch")
    assert "python train.py" not in scaffold.next_steps("static_method")
    assert scaffold.next_steps("sklearn")[-1] == "dlhub-manifest publish"


def test_next_steps_install_pytest_before_running_the_tests() -> None:
    steps = scaffold.next_steps("sklearn")
    installs = [i for i, s in enumerate(steps) if s.startswith("python -m pip install") and "pytest" in s.split()]
    assert installs and installs[0] < steps.index("python -m pytest")


@pytest.mark.parametrize("servable_type", scaffold.servable_types())
def test_every_type_generates_a_manifest_that_validates_without_its_model(servable_type: str,
                                                                         tmp_path: Path) -> None:
    project = create_project(spec(servable_type=servable_type), tmp_path / "p")
    doc, report = validate_path(project, check_files=False)
    assert report.ok, [d.format_text() for d in report.diagnostics]
    assert doc is not None and doc.data["servable"]["type"] == servable_type
    assert not (project / "_types").exists() and not (project / "_shared").exists()
    assert leftovers(tmp_path) == []


def test_user_text_is_quoted_so_yaml_reads_it_back_unchanged(tmp_path: Path) -> None:
    title = "O'Brien's \"best\" model: ü, #1 & more"
    author = "Ñúñez, José: \"Pepe\""
    project = create_project(spec(title=title, author=author), tmp_path / "p")
    data = yaml.safe_load((project / "dlhub.yaml").read_text(encoding="utf-8"))
    assert data["title"] == title
    assert data["creators"] == [author]


def test_the_manifest_starts_with_the_schema_comment_for_editors(tmp_path: Path) -> None:
    project = create_project(spec(), tmp_path / "p")
    first = (project / "dlhub.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == ("# yaml-language-server: $schema="
                     "https://dlhub-manifest.github.io/schemas/dlhub-manifest.v1.schema.json")
    assert manifest_schema()["$id"] == first.split("=", 1)[1]


def test_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="pass --force"):
        create_project(spec(), dest)
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]
    assert leftovers(tmp_path) == []


def test_an_empty_existing_folder_is_used_without_force(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    dest.mkdir()
    assert (create_project(spec(), dest) / "dlhub.yaml").is_file()


def test_force_replaces_template_files_and_keeps_the_others(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    (dest / "tests").mkdir(parents=True)
    (dest / "notes.txt").write_text("mine")
    (dest / "dlhub.yaml").write_text("old")
    create_project(spec(), dest, force=True)
    assert (dest / "notes.txt").read_text() == "mine"
    assert "manifest_version: 1" in (dest / "dlhub.yaml").read_text()
    assert (dest / "tests" / "test_model.py").is_file()
    assert leftovers(tmp_path) == []


def test_force_stops_before_writing_when_a_file_is_where_a_folder_goes(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    dest.mkdir()
    (dest / "tests").write_text("a file, not a folder")
    (dest / "dlhub.yaml").write_text("old")
    with pytest.raises(UsageError, match="tests is in the way"):
        create_project(spec(), dest, force=True)
    assert (dest / "dlhub.yaml").read_text() == "old"
    assert sorted(p.name for p in dest.iterdir()) == ["dlhub.yaml", "tests"]


def test_refuses_a_destination_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "p").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        create_project(spec(), tmp_path / "p", force=True)


def test_a_broken_template_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "template"
    shutil.copytree(scaffold.template_dir(), broken)
    (broken / "{{cookiecutter.name}}" / "oops.txt").write_text("{{ cookiecutter.no_such_variable }}")
    monkeypatch.setattr(scaffold, "template_dir", lambda: broken)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ScaffoldError, match="could not generate the project"):
        create_project(spec(), out / "p")
    assert list(out.iterdir()) == []


def test_generation_writes_no_cookiecutter_replay_into_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    create_project(spec(), tmp_path / "p")
    assert not (tmp_path / "home").exists()


def test_the_generated_project_is_a_clean_git_tree_once_trained(tmp_path: Path) -> None:
    """.gitignore must not hide the model (CI publishes from the repository) but must hide caches."""
    project = create_project(spec(), tmp_path / "p")
    (project / "model.pkl").write_bytes(b"model")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"")
    (project / "dlhub.json").write_text("{}")  # what `build` writes
    (project / "servable.zip").write_bytes(b"")  # what `package` writes
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    listed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project, check=True,
                            capture_output=True, text=True).stdout
    assert "?? model.pkl" in listed
    assert "__pycache__" not in listed and "dlhub.json" not in listed and "servable.zip" not in listed


def test_byte_code_caches_in_an_installed_template_are_not_copied(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """pip byte-compiles the template's Python files on install; the project must not inherit __pycache__."""
    template = tmp_path / "template"
    shutil.copytree(scaffold.template_dir(), template)
    for cache in (template / "{{cookiecutter.name}}" / "_types" / "pytorch" / "__pycache__",
                  template / "{{cookiecutter.name}}" / "_shared" / "__pycache__"):
        cache.mkdir()
        (cache / "net.cpython-311.pyc").write_bytes(b"")
    monkeypatch.setattr(scaffold, "template_dir", lambda: template)
    project = create_project(spec(servable_type="pytorch"), tmp_path / "p")
    assert (project / "net.py").is_file()
    assert list(project.rglob("__pycache__")) == []
