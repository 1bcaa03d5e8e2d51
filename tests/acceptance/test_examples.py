"""Example manifests on disk, discovered automatically.

`tests/examples/valid/<case>/dlhub.yaml` must validate; `tests/examples/invalid/<case>.yaml` starts with one or more
`# expect: LINE: TEXT` comments, and each must appear as a diagnostic on that line. The shipped `examples/<type>/`
projects must validate too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

ROOT = Path(__file__).resolve().parents[1] / "examples"
PROJECT_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECT = re.compile(r"^# expect: (\d+): (.+)$")

VALID = sorted(p.parent for p in (ROOT / "valid").glob("*/dlhub.yaml"))
INVALID = sorted((ROOT / "invalid").glob("*.yaml"))
SHIPPED = sorted(p.parent for p in PROJECT_EXAMPLES.glob("*/dlhub.yaml"))


def expectations(path: Path) -> list[tuple[int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if not m:
            break
        out.append((int(m.group(1)), m.group(2)))
    return out


def test_corpus_is_discovered() -> None:
    assert len(VALID) >= 3 and len(INVALID) >= 20
    assert all(expectations(p) for p in INVALID), "every invalid case states what it expects"


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_case(case: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("validate", str(case))
    assert result.stdout.strip().endswith(": ok")


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_case(case: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("validate", str(case), expect=1)
    lines = result.stdout.splitlines()
    for line_no, text in expectations(case):
        prefix = f"{case}:{line_no}:"
        assert any(ln.startswith(prefix) and text in ln for ln in lines), (
            f"expected {text!r} on line {line_no}; got:\n{result.stdout}")


def test_shipped_examples_cover_every_servable_type() -> None:
    types = {p.name for p in SHIPPED}
    assert {"sklearn", "static_method", "class_method", "pytorch", "keras", "tensorflow"} <= types


@pytest.mark.parametrize("project", SHIPPED, ids=lambda p: p.name)
def test_shipped_example_validates(project: Path, run_cli: Callable[..., Result]) -> None:
    run_cli("validate", str(project))
