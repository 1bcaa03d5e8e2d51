"""dumps: canonical, byte-stable JSON with `run` first among the methods."""

from __future__ import annotations

import json

import pytest

from dlhub_manifest.build import dumps
from dlhub_manifest.errors import DLHubManifestError


def test_keys_sorted_run_first_two_space_indent_trailing_newline() -> None:
    document = {"servable": {"methods": {"zeta": {"b": 1, "a": 2}, "run": {}, "alpha": {}}, "shim": "s"},
                "dlhub": {"name": "n"}, "datacite": {"é": "ü"}}
    text = dumps(document).decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert list(json.loads(text)) == ["datacite", "dlhub", "servable"]
    assert list(json.loads(text)["servable"]["methods"]) == ["run", "alpha", "zeta"]
    assert list(json.loads(text)["servable"]["methods"]["zeta"]) == ["a", "b"]
    assert '\n  "datacite": {\n    "é": "ü"\n  },' in text  # UTF-8, not \u escapes


def test_only_the_servable_methods_put_run_first() -> None:
    text = dumps({"other": {"run": 1, "a": 2}}).decode("utf-8")
    assert list(json.loads(text)["other"]) == ["a", "run"]


def test_same_content_in_any_insertion_order_gives_the_same_bytes() -> None:
    a = {"x": {"b": [1, {"d": 1, "c": 2}], "a": None}, "y": 1.5}
    b = {"y": 1.5, "x": {"a": None, "b": [1, {"c": 2, "d": 1}]}}
    assert dumps(a) == dumps(b)


def test_nan_is_refused_with_a_clear_message() -> None:
    with pytest.raises(DLHubManifestError, match="NaN and Infinity have no JSON form"):
        dumps({"servable": {"methods": {"run": {"parameters": {"x": float("nan")}}}}})
