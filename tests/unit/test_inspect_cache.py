"""The inspection cache: a probe result is reused only while everything the probe read is unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_build_support import project, static_servable

from dlhub_manifest.build import build_document
from dlhub_manifest.build.inspect import runner
from dlhub_manifest.build.inspect.runner import run_probe
from dlhub_manifest.manifest.load import load_file
from dlhub_manifest.package import hashcache

APP = "from helper import scale\n\ndef run(x: list[float]) -> list[float]:\n    return scale(x)\n"
HELPER = "def scale(x):\n    return x\n"
ARGS = {"module": "app", "function": "run"}


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count real probe runs; a private cache; no racy window (files written by a test are "old" at once)."""
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(hashcache.NO_CACHE_ENV, raising=False)
    monkeypatch.setattr(hashcache, "RACY_NS", 0)
    calls: list[str] = []
    real = runner._run

    def counted(name: str, *args: Any) -> dict[str, Any]:
        calls.append(name)
        return real(name, *args)

    monkeypatch.setattr(runner, "_run", counted)
    return calls


def _project(tmp_path: Path, app: str = APP) -> Path:
    return project(tmp_path / "p", static_servable("app:run"), {"app.py": app, "helper.py": HELPER,
                                                                  "notes.txt": "not read by the probe\n"})


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "inspections").glob("*.json"))


def test_unchanged_project_is_not_inspected_again(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path)
    first = run_probe("static_method", ARGS, root, cache=True)
    second = run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method"]
    assert second == first
    assert first["inputs"][0]["argument"] == {"type": "list", "item_type": {"type": "float"}}


def test_a_changed_module_is_inspected_again_with_the_new_result(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path)
    run_probe("static_method", ARGS, root, cache=True)
    (root / "app.py").write_text(APP.replace("list[float]) ->", "list[int]) ->"), encoding="utf-8")
    again = run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]
    assert again["inputs"][0]["argument"] == {"type": "list", "item_type": {"type": "integer"}}


def test_an_imported_helper_counts_but_an_unread_file_does_not(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path)
    run_probe("static_method", ARGS, root, cache=True)
    (root / "notes.txt").write_text("edited, still never read\n", encoding="utf-8")
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method"]
    (root / "helper.py").write_text(HELPER + "# changed\n", encoding="utf-8")
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]


def test_a_new_file_where_the_probe_looked_is_noticed(tmp_path: Path, runs: list[str]) -> None:
    app = APP + "try:\n    open('extra.cfg').close()\nexcept FileNotFoundError:\n    pass\n"
    root = _project(tmp_path, app)
    run_probe("static_method", ARGS, root, cache=True)
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method"]
    (root / "extra.cfg").write_text("now it exists\n", encoding="utf-8")
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]


def test_a_changed_installed_module_is_noticed(tmp_path: Path, runs: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "helper.py").write_text(HELPER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(site))
    root = project(tmp_path / "p", static_servable("app:run"), {"app.py": APP})  # helper comes from "site"
    run_probe("static_method", ARGS, root, cache=True)
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method"]
    (site / "helper.py").write_text(HELPER + "VERSION = 2\n", encoding="utf-8")  # an upgrade, say
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]


def test_other_arguments_are_another_entry(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path, APP + "\ndef other(y: int) -> int:\n    return y\n")
    run_probe("static_method", ARGS, root, cache=True)
    other = run_probe("static_method", {"module": "app", "function": "other"}, root, cache=True)
    assert runs == ["static_method", "static_method"]
    assert other["inputs"][0]["argument"] == {"type": "integer"}
    assert len(_entries(tmp_path)) == 2


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"format": 1}', b'{"format": 1, "result": [], "reads": {}}',
                                     b'{"format": 1, "result": {}, "reads": {"files": 3}}'])
def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path: Path, runs: list[str], garbage: bytes) -> None:
    root = _project(tmp_path)
    first = run_probe("static_method", ARGS, root, cache=True)
    [entry] = _entries(tmp_path)
    entry.write_bytes(garbage)
    assert run_probe("static_method", ARGS, root, cache=True) == first
    assert runs == ["static_method", "static_method"]
    assert json.loads(entry.read_bytes())["result"] == first  # rewritten whole
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]


def test_inputs_changed_just_before_the_probe_are_not_remembered(tmp_path: Path, runs: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashcache, "RACY_NS", 10**18)  # every file counts as "just written"
    root = _project(tmp_path)
    run_probe("static_method", ARGS, root, cache=True)
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]
    assert _entries(tmp_path) == []


def test_failures_are_never_remembered(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path, "def run(x: list[float]) -> list[float]:\n    raise ValueError\nraise SystemExit(3)\n")
    for _ in range(2):
        with pytest.raises(runner.ProbeFailed):
            run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method", "static_method"]
    assert _entries(tmp_path) == []


def test_no_cache_environment_and_default_off(tmp_path: Path, runs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    run_probe("static_method", ARGS, root)
    run_probe("static_method", ARGS, root)  # the builder's default: no cache
    monkeypatch.setenv(hashcache.NO_CACHE_ENV, "1")
    run_probe("static_method", ARGS, root, cache=True)
    run_probe("static_method", ARGS, root, cache=True)
    assert runs == ["static_method"] * 4
    assert _entries(tmp_path) == []


def test_build_document_with_cache_gives_the_same_document(tmp_path: Path, runs: list[str]) -> None:
    root = _project(tmp_path)
    doc, _ = load_file(root)
    assert doc is not None
    fresh = build_document(doc, cache=True)
    again = build_document(doc, cache=True)
    assert runs == ["static_method"]
    assert json.dumps(again) == json.dumps(fresh)  # same content and the same key order


def test_the_least_recently_used_entries_are_dropped(tmp_path: Path, runs: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from dlhub_manifest.build.inspect import cache

    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    root = _project(tmp_path, APP + "".join(f"\ndef f{i}(y: int) -> int:\n    return y\n" for i in range(3)))
    paths = [cache.entry_path("static_method", {"module": "app", "function": f"f{i}"}, root, runner._child_env())
             for i in range(3)]
    for i, path in enumerate(paths):
        run_probe("static_method", {"module": "app", "function": f"f{i}"}, root, cache=True)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # f0 is the least recently used
    assert _entries(tmp_path) == sorted(paths[1:])
