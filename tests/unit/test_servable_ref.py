"""Servable references: the four forms, owners that are Globus usernames, and a clear error for anything else."""

from __future__ import annotations

import pytest

from dlhub_manifest.api import parse_servable_ref
from dlhub_manifest.errors import UsageError
from dlhub_manifest.util.servable_ref import ServableRef, split_servable_ref


@pytest.mark.parametrize(("text", "expected"), [
    ("alice/iris-classifier", ("alice", "iris-classifier", None)),
    ("iris-classifier", ("me", "iris-classifier", None)),
    ("alice/iris-classifier@1.0.0", ("alice", "iris-classifier", "1.0.0")),
    ("iris-classifier@1.0.0", ("me", "iris-classifier", "1.0.0")),
    ("alice@globusid.org/iris-classifier", ("alice@globusid.org", "iris-classifier", None)),
    ("alice@globusid.org/iris-classifier@2.1.0-rc.1+b5", ("alice@globusid.org", "iris-classifier", "2.1.0-rc.1+b5")),
    ("uid1000/scaler_v2.0@0.1.0", ("uid1000", "scaler_v2.0", "0.1.0")),
    ("  alice/iris-classifier  ", ("alice", "iris-classifier", None)),
])
def test_the_four_forms(text: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_servable_ref(text, "me") == expected


def test_split_leaves_the_owner_open_when_not_given() -> None:
    assert split_servable_ref("iris@1.0.0") == ServableRef(None, "iris", "1.0.0")


@pytest.mark.parametrize(("text", "problem"), [
    ("", "the name is missing"),
    ("alice/", "the name is missing"),
    ("/iris", "the owner before '/' is missing"),
    ("a/b/iris", "it has more than one '/'"),
    ("al ice/iris", "the owner 'al ice' contains spaces or control characters"),
    ("alice/Iris", "'Iris' is not a servable name"),
    ("alice/iris classifier", "'iris classifier' is not a servable name"),
    ("iris@", "the version after '@' is missing"),
    ("iris@latest", "'latest' is not a version (MAJOR.MINOR.PATCH such as 1.0.0)"),
    ("iris@1.0", "'1.0' is not a version"),
    ("iris@1.0.0@2.0.0", "'1.0.0@2.0.0' is not a version"),
    ("alice@globusid.org", "'globusid.org' is not a version"),
])
def test_anything_else_is_a_usage_error_saying_what_is_wrong_and_the_forms(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_servable_ref(text, "me")
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a servable reference: {problem}")
    assert "write OWNER/NAME, NAME (your own), OWNER/NAME@VERSION or NAME@VERSION" in message
    assert info.value.exit_code == 2
