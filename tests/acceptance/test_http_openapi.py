"""The OpenAPI document matches what the server does: schemathesis drives every documented operation of a
running server and checks status codes, content types and response shapes against the document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, settings
from registry_server import TOKENS, Server, running_server

from dlhub_manifest.server.app import ROUTES

# an optional test tool: without it this module is reported as skipped, and the rest of the suite still runs
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install '.[test]')")
checks = pytest.importorskip("schemathesis.checks")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("openapi"), "--max-blob-size", "1M") as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(server: Server) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(server.url + "/openapi.json")
    # negative cases too (they must be refused with a 4xx), but unknown query parameters are simply ignored
    loaded.config.generation.update(modes=list(schemathesis.GenerationMode), allow_extra_parameters=True)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_server_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    # Excluded: the registry rightly refuses some schema-valid bodies (a document with no servable name, a bad
    # version) that OpenAPI cannot describe, and with the token always sent a "missing header" case cannot be
    # rejected; the auth tests cover 401. Everything else (status codes, shapes, no 5xx, Allow) is checked.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['alice']}"},
                           excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection])


def test_served_document_is_the_one_kept_in_the_repository(server: Server) -> None:
    kept = json.loads((REPO / "schemas" / "registry-openapi.json").read_text())
    assert requests.get(server.url + "/openapi.json").json() == kept


def test_every_route_is_documented_and_every_documented_path_is_routed() -> None:
    kept = json.loads((REPO / "schemas" / "registry-openapi.json").read_text())
    documented = {(path, method.upper()) for path, ops in kept["paths"].items() for method in ops
                  if method != "parameters"}
    # Starlette adds HEAD to every GET route; only /blobs/{sha256} documents HEAD on purpose
    on_purpose = {"/blobs/{sha256}"}
    routed = {(path, m) for r in ROUTES for path in [re.sub(r":\w+}", "}", r.path)] for m in (r.methods or ())
              if m != "HEAD" or "GET" not in (r.methods or ()) or path in on_purpose}
    assert documented == routed
