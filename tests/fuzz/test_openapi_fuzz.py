"""Schemathesis against the running local server: no 5xx for any generated request, and every answer conforms
to the schema, both the server's own OpenAPI (FastAPI's, test controls excluded) and the wire contract
``contract/connectors-openapi.json`` (where it declares response schemas).

Hand-written contract checks of specific answers are in ``tests/local`` (``assert_contract``); this module
generates the requests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_counts import count_case

from pulumi_mistral.local.app import create_app
from pulumi_mistral.local.settings import LocalSettings
from pulumi_mistral.testing.local_server import LocalServer

CONTRACT = Path(__file__).resolve().parents[2] / "contract" / "connectors-openapi.json"
CHECKS = [not_a_server_error, response_schema_conformance]
# The OpenAPI document the app serves at /openapi.json (built without starting it: no store is opened).
_APP_OPENAPI = create_app(LocalSettings(api_keys=["schema-only"])).openapi()

app_schema = schemathesis.openapi.from_dict(_APP_OPENAPI).exclude(path_regex=r"^/_local")
contract_schema = schemathesis.openapi.from_path(str(CONTRACT))

SHORT = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
LONG = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _run(case: schemathesis.Case, server: LocalServer, kind: str) -> None:
    count_case(kind)
    case.call_and_validate(base_url=server.url, headers=server.headers(), checks=CHECKS, timeout=30)


def test_app_schema_exposes_no_test_controls() -> None:
    paths = [op.ok().path for op in app_schema.get_all_operations()]
    assert paths and not [p for p in paths if p.startswith("/_local")]
    assert "/_local/faults" in _APP_OPENAPI["paths"]  # they exist, and are excluded on purpose


@app_schema.parametrize()
@SHORT
def test_app_openapi(case: schemathesis.Case, fuzz_server: LocalServer) -> None:
    _run(case, fuzz_server, "schemathesis_app")


@contract_schema.parametrize()
@SHORT
def test_contract_openapi(case: schemathesis.Case, fuzz_server: LocalServer) -> None:
    _run(case, fuzz_server, "schemathesis_contract")


@pytest.mark.slow
@app_schema.parametrize()
@LONG
def test_app_openapi_long(case: schemathesis.Case, fuzz_server: LocalServer) -> None:
    _run(case, fuzz_server, "schemathesis_app")


@pytest.mark.slow
@contract_schema.parametrize()
@LONG
def test_contract_openapi_long(case: schemathesis.Case, fuzz_server: LocalServer) -> None:
    _run(case, fuzz_server, "schemathesis_contract")
