"""Semantic versions: parsing, precedence, next patch, and the version a publication gets."""

from __future__ import annotations

import pytest

from dlhub_manifest.errors import UsageError
from dlhub_manifest.util.versions import choose_version, latest, next_version, parse_version


def test_parse_keeps_every_part() -> None:
    v = parse_version("1.2.3-rc.1+build.5")
    assert (v.major, v.minor, v.patch, v.prerelease, v.build) == (1, 2, 3, ("rc", "1"), "build.5")
    assert str(v) == "1.2.3-rc.1+build.5"


@pytest.mark.parametrize("text", ["1.2", "v1.2.3", "01.2.3", "1.2.3-", "", "1.2.3 beta"])
def test_parse_refuses_non_semver_with_the_expected_form(text: str) -> None:
    with pytest.raises(UsageError, match="MAJOR.MINOR.PATCH"):
        parse_version(text)


def test_precedence_follows_semver() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"]
    shuffled = ordered[5:] + ordered[:5][::-1]
    assert sorted(shuffled, key=parse_version) == ordered
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")


def test_latest_and_next_patch() -> None:
    assert latest(["0.9.0", "0.10.0", "0.2.0"]) == "0.10.0"
    assert next_version([]) == "0.1.0"
    assert next_version(["0.1.0", "0.1.1"]) == "0.1.2"
    assert next_version(["1.0.0", "1.3.0-rc.1"]) == "1.3.0"


def test_choose_version_rules() -> None:
    published = {"0.1.0": "aaa", "0.1.1": "bbb"}
    assert choose_version(published, None, "bbb") == ("0.1.1", "0.1.1")  # unchanged: the latest again
    assert choose_version(published, None, "ccc") == ("0.1.2", None)  # changed: next patch
    assert choose_version(published, "0.1.0", "zzz") == ("0.1.0", "0.1.0")  # asked and taken: a collision
    assert choose_version(published, "2.0.0", "zzz") == ("2.0.0", None)
    assert choose_version({}, None, "x") == ("0.1.0", None)
