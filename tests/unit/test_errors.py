"""The one error contract: one exception root, and one table read by the CLI, the server and the HTTP client."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import pytest

import dlhub_manifest
from dlhub_manifest import errors
from dlhub_manifest.errors import (
    ERRORS,
    DLHubManifestError,
    InvalidManifestError,
    OffsetMismatch,
    RegistryError,
    StorageError,
    UsageError,
    kind_for_answer,
    kind_of,
)

# Converted where they leave their module (targets/http.py turns every globus-sdk error into the library's).
CONVERTED_AT_THE_BOUNDARY = {"dlhub_manifest.targets.http_client.RegistryAPIError"}


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(dlhub_manifest.__path__, "dlhub_manifest."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, BaseException) and obj.__module__ == info.name]
    return found


def test_every_exception_the_package_defines_derives_from_the_root() -> None:
    outside = {f"{c.__module__}.{c.__qualname__}" for c in _exception_classes()
               if not issubclass(c, DLHubManifestError)}
    assert outside == CONVERTED_AT_THE_BOUNDARY


def test_every_row_is_reachable_and_codes_are_unique() -> None:
    codes = [kind.code for kind in ERRORS]
    assert len(codes) == len(set(codes))
    for kind in ERRORS:  # a row after a row of one of its ancestors would never be chosen
        assert kind_of(kind.cls.__new__(kind.cls)) is kind, kind.cls


@pytest.mark.parametrize("kind", ERRORS, ids=[k.code for k in ERRORS])
def test_an_answer_maps_back_to_its_own_row(kind: errors.ErrorKind) -> None:
    assert kind_for_answer(kind.code, kind.status) is kind
    assert kind.exit_code in (1, 2, 4)
    assert kind.status < 500 or kind.exit_code == 1  # a server fault is a failure, never a usage error


def test_exit_codes_come_from_the_table() -> None:
    assert UsageError("x").exit_code == 2
    assert errors.Unauthenticated("x").exit_code == 4
    assert errors.RegistryUnavailable("x").exit_code == 1
    assert kind_of(errors.RegistryUnavailable("x")).status == 503
    assert kind_of(StorageError("x")).status == 500


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("something_new", 400, DLHubManifestError),  # an unknown code: the most general class with its status
    ("upload_in_progress", 409, errors.ConflictError),
    (None, 404, errors.NotFoundError),
    (None, 503, errors.RegistryUnavailable),
    (None, 502, StorageError),  # a proxy's error page: a server fault, exit 1
    (None, 418, RegistryError),
])
def test_an_unknown_code_falls_back_to_the_status(code: str | None, status: int,
                                                  expected: type[DLHubManifestError]) -> None:
    assert kind_for_answer(code, status).cls is expected


def test_wire_fields_round_trip() -> None:
    offset = OffsetMismatch("ab" * 32, 4096)
    again = OffsetMismatch.from_wire(str(offset), offset.wire_fields())
    assert isinstance(again, OffsetMismatch) and again.offset == 4096 and str(again) == str(offset)
    invalid = InvalidManifestError.from_wire("dlhub.yaml:3: bad", {"diagnostics": ["dlhub.yaml:3: bad"]})
    assert isinstance(invalid, InvalidManifestError) and str(invalid) == "dlhub.yaml:3: bad"


def test_the_api_document_lists_every_code_with_its_status() -> None:
    from dlhub_manifest.util.resources import data_dir

    text = (data_dir("schemas") / "registry-openapi.json").read_text(encoding="utf-8")
    described = json.loads(text)["components"]["schemas"]["Error"]["properties"]["code"]["description"]
    assert all(f"{kind.code} ({kind.status})" in described for kind in ERRORS)
