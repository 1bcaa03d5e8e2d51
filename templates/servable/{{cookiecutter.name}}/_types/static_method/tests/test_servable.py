"""Behaviour of the servable's function."""

from __future__ import annotations

import math

import pytest

from servable import run


def test_summarises_a_list_of_numbers() -> None:
    assert run([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == {
        "count": 8, "mean": 5.0, "stdev": 2.0, "min": 2.0, "max": 9.0,
    }


def test_accepts_integers_and_returns_floats() -> None:
    result = run([1, 2])
    assert result["mean"] == 1.5
    assert math.isclose(result["stdev"], 0.5)


def test_refuses_an_empty_list_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="empty"):
        run([])
