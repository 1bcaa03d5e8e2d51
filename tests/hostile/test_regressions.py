"""Inputs that once crashed or hung the loader or validator, pinned one by one at the function level."""

from __future__ import annotations

import pytest

from dlhub_manifest.manifest import load_text


@pytest.mark.parametrize("text", ['a: !!bool maybe\n', 'a: !!bool ""\n', 'a: !!int ""\n', 'a: !!int "-"\n',
                                  'a: !!float "_"\n'])
def test_explicit_scalar_tag_with_an_impossible_value_is_a_located_problem(text: str) -> None:
    doc, problems = load_text(text)
    assert doc is None
    assert (problems[0].line, problems[0].column, problems[0].path) == (1, 4, ("a",))
    assert problems[0].message.startswith("cannot read scalar")
