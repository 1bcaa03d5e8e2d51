"""The document check's compiled fast path: it says "valid" only where jsonschema does, so publishing a
valid document (client and worker) never imports jsonschema, and problems are still explained by it."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_build_support import copy_example

from dlhub_manifest.build import build, check_document
from dlhub_manifest.build.check import _fast_check, _validator

CHEAP = {"sklearn": True, "static_method": True, "class_method": True}  # example -> inspect (fast to build)
VALUES: list[Any] = [None, "", 0, -1, 1.5, True, [], {}, "x", [1], {"a": 1}, ["a", "a"]]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _mutants(document: dict[str, Any], count: int, rnd: random.Random) -> Iterator[dict[str, Any]]:
    paths = list(_paths(document))[1:]
    for _ in range(count):
        mutant = copy.deepcopy(document)
        path = rnd.choice(paths)
        parent = mutant
        for key in path[:-1]:
            parent = parent[key]
        roll = rnd.random()
        if roll < 0.25 and isinstance(parent, dict):
            del parent[path[-1]]
        elif roll < 0.4 and isinstance(parent[path[-1]], dict):
            parent[path[-1]].clear()  # minProperties
        elif roll < 0.5 and isinstance(parent, dict):
            parent["unexpected"] = 1
        else:
            parent[path[-1]] = rnd.choice(VALUES)
        yield mutant


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("examples")
    return [build(copy_example(name, folder), inspect=inspect) for name, inspect in CHEAP.items()]


def test_the_document_schema_compiles() -> None:
    assert _fast_check() is not None  # a keyword the compiler lacks would silently switch the fast path off


def test_fast_check_agrees_with_jsonschema_on_mutated_documents(documents: list[dict[str, Any]]) -> None:
    fast, slow = _fast_check(), _validator()
    assert fast is not None
    rnd = random.Random(20261126)
    checked = invalid = 0
    for document in documents:
        assert fast(document) and slow.is_valid(document)
        for mutant in _mutants(document, 300, rnd):
            checked += 1
            invalid += not slow.is_valid(mutant)
            assert fast(mutant) == slow.is_valid(mutant), mutant
    assert checked == 900 and invalid > 100  # the mutations do reach both answers


def test_problems_are_still_explained(documents: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(documents[0])
    broken["servable"]["methods"] = {}
    assert check_document(broken) == ["servable.methods: 'run' is a required property"]


def test_a_valid_document_is_checked_without_jsonschema(documents: list[dict[str, Any]]) -> None:
    code = ("import json, sys\nfrom dlhub_manifest.registry.worker import _preload\n_preload()\n"
            "from dlhub_manifest.build import check_document\n"
            "print(check_document(json.loads(sys.stdin.read())), 'jsonschema' in sys.modules)")
    import json

    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(documents[1]), capture_output=True,
                         text=True, check=True, cwd=Path(__file__).parent)
    assert out.stdout.split() == ["[]", "False"]
