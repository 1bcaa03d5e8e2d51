"""Property-based tests: whatever bytes or data come in, the loader and validator answer with diagnostics.

The contract, for every generated input: no exception; every diagnostic names the file; a line, when
given, is one the document has (YAML's own line breaks: LF, CRLF, CR, NEL, U+2028, U+2029), with a
column of at least 1. Examples are derandomized so CI runs the same inputs every time.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document, load_bytes
from dlhub_manifest.manifest.schema_fast import compile_schema
from dlhub_manifest.manifest.validate import validate_document
from dlhub_manifest.util.resources import manifest_schema

from . import generate, schemawalk
from .case import Case, materialise

# A failing example is reported through code that trips this DeprecationWarning, which filterwarnings=error
# would turn into a pytest INTERNALERROR hiding the example.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")
FILE = "hostile.yaml"
RULES = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEWER = settings(RULES, max_examples=150)  # these validate whole manifests with file checks: ~20 ms each
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
           | st.floats(allow_nan=False) | st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=25)
# Pieces of YAML syntax, so random documents reach tags, anchors, aliases, directives and flow/block mixes.
TOKENS = ["a", "name", ":", ": ", "- ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "?", "&x ", "*x", "!!int ",
          "!!bool ", "!!float ", "!!str ", "!!binary ", "!!python/object:os.system ", "!foo ", "<<", "---\n",
          "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "#c", "'", '"', "\\x1b", "\\0", "|", ">", "~", "0x1f",
          "1e400", ".nan", "2024-01-01", "\ufeff", "\u2028", "\r\n", "\r", "\x85", "\x00", "\xe9", "yes", "null"]
yaml_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def line_count(raw: bytes) -> int:
    """Lines as YAML counts them (for undecodable input, every LF or CR byte may start one)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.count(b"\n") + raw.count(b"\r") + 1
    return len(_BREAK.findall(text)) + 1


def assert_contract(diagnostics: list[Diagnostic], lines: int) -> None:
    for d in diagnostics:
        assert d.file == FILE
        assert d.message
        if d.line is not None:
            assert 1 <= d.line <= lines, (d, lines)
            assert d.column is None or d.column >= 1, d


def check_bytes(raw: bytes, project: Path | None = None) -> None:
    """Load and (when it loads) validate `raw`, asserting the contract on every diagnostic."""
    doc, problems = load_bytes(raw, FILE)
    diagnostics = list(problems)
    if doc is not None:
        doc.project_dir = project or Path("/nonexistent-project")
        diagnostics += validate_document(doc, check_files=project is not None)
    else:
        assert problems, "a refused document must say why"
    assert_contract(diagnostics, line_count(raw))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding every file the base manifests name, so file checks run on generated paths too."""
    return materialise(Case("project", None, "", files=generate.PROJECT), tmp_path_factory.mktemp("project"))


@RULES
@given(st.binary(max_size=400))
def test_arbitrary_bytes(raw: bytes) -> None:
    check_bytes(raw)


@RULES
@given(yaml_soup)
def test_yaml_token_soup(text: str) -> None:
    check_bytes(text.encode("utf-8", "surrogatepass"))


@RULES
@given(json_values)
def test_any_json_like_document(value: Any) -> None:
    check_bytes(yaml.safe_dump(value, allow_unicode=True).encode())


def _schema_documents() -> st.SearchStrategy[dict[str, Any]]:
    """Manifests whose keys come from the schema (top level, servable, options of every type) with random values."""
    top = list(schemawalk.schema()["properties"])
    options = sorted({k for name, d in schemawalk.schema()["$defs"].items() if name.startswith("options_")
                      for k in d["properties"]})
    servable = st.fixed_dictionaries(
        {"type": st.sampled_from(list(generate.SERVABLES)) | json_values},
        optional={"options": st.dictionaries(st.sampled_from(options), json_values, max_size=6),
                  "methods": st.dictionaries(st.sampled_from(["run", "predict"]), json_values, max_size=2)})
    return st.fixed_dictionaries({"manifest_version": st.just(1) | json_values},
                                 optional={**{k: json_values for k in top if k != "manifest_version"},
                                           "servable": servable})


@FEWER
@given(_schema_documents())
def test_documents_built_from_the_schema(project: Path, data: dict[str, Any]) -> None:
    check_bytes(yaml.safe_dump(data, allow_unicode=True).encode(), project)


def _one_field_changed() -> st.SearchStrategy[tuple[bytes, list[Any]]]:
    """A valid base manifest with one field (any depth) replaced by a random value."""
    fields = [(kind, f.path) for kind in generate.SERVABLES for f in schemawalk.walk(generate.base(kind))]

    def build(choice: tuple[str, tuple[Any, ...]], value: Any) -> tuple[bytes, list[Any]]:
        kind, path = choice
        data = generate.base(kind)
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = copy.deepcopy(value)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode(), list(path)

    return st.builds(build, st.sampled_from(fields), json_values)


@FEWER
@given(_one_field_changed())
def test_a_valid_manifest_with_one_field_replaced(project: Path, changed: tuple[bytes, list[Any]]) -> None:
    check_bytes(changed[0], project)


@FEWER
@given(_one_field_changed())
def test_the_fast_check_never_passes_what_jsonschema_refuses(changed: tuple[bytes, list[Any]]) -> None:
    """validate trusts a "valid" from the compiled check without asking jsonschema: it must never be wrong."""
    doc, problems = load_bytes(changed[0], FILE)
    if doc is None:  # the loader refused it (a control character in a generated string): nothing to compare
        assert problems
        return
    schema = manifest_schema(1)
    if compile_schema(schema)(doc.data):
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc.data)) == []


def test_line_count_follows_yaml_line_breaks() -> None:
    samples = (b"", b"a", b"a\n", b"a\r\nb", b"a\rb\rc", "a\u2028b".encode())
    assert [line_count(b) for b in samples] == [1, 1, 2, 2, 3, 2]


def test_a_document_object_with_any_data_is_validated_without_raising() -> None:
    """validate_document is public: data that did not come from the loader must not crash it either."""
    for data in ([], "text", 5, None, {"manifest_version": 1, "servable": []}, {"manifest_version": 1, "files": {}}):
        diagnostics = validate_document(Document(FILE, data), check_files=True)
        assert diagnostics and all(d.file == FILE for d in diagnostics)
