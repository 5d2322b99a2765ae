"""drift over `pulumi stack export` JSON (secret markers, recorded tools, ids), a real stack, and 1,000 connectors."""

from __future__ import annotations

import io
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pulumi_mistral.core.fingerprint import set_fingerprint, tools_summary

if TYPE_CHECKING:
    from conftest import Env  # type: ignore[import-not-found]

TYPE = "pulumi-python:dynamic/connector:Connector"
SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
FAR = "https://mcp.example.com/mcp"


def _resource(name: str, inputs: dict[str, Any], outputs: dict[str, Any], connector_id: str) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::proj::{TYPE}::{name}",
        "custom": True,
        "id": connector_id,
        "type": TYPE,
        "inputs": {"__provider": {**SIG, "ciphertext": "v1:AAAA"}, **inputs},
        "outputs": {**inputs, **outputs, "connector_id": connector_id},
        "parent": "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev",
        "provider": "urn:pulumi:dev::proj::pulumi:providers:pulumi-python::default::x",
    }


def _export(*resources: dict[str, Any]) -> dict[str, Any]:
    stack = {
        "urn": "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev",
        "custom": False,
        "type": "pulumi:pulumi:Stack",
    }
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z", "version": "v3.200.0"},
            "secrets_providers": {"type": "passphrase"},
            "resources": [stack, *resources],
        },
    }


def _write(env: Env, doc: dict[str, Any]) -> str:
    path = env.tmp / "state.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_stack_export_secrets_recorded_tools_and_ids(env: Env) -> None:
    docs = env.connector("docs", headers={"X-Api-Key": "live-header"})
    tools = env.client.list_tools("docs", refresh=True)
    vault = env.connector("vault", headers={"X-Api-Key": "live-vault-header"}, server=FAR)
    renamed = env.connector("renamed-by-hand", server=FAR)
    recreated = env.connector("recreated", server=FAR)
    doc = _export(
        _resource(
            "docs",
            {
                "name": "docs",
                "description": "docs connector",
                "server": env.demo.url,
                "headers": {**SIG, "ciphertext": "v1:encrypted"},
            },
            {"tools": tools_summary(tools), "tools_fingerprint": set_fingerprint(tools)},
            docs.id,
        ),
        _resource(
            "vault",
            {
                "name": "vault",
                "description": "vault connector",
                "server": FAR,
                "headers": {**SIG, "plaintext": json.dumps({"X-Api-Key": "declared-vault-header"})},
            },
            {},
            vault.id,
        ),
        _resource(
            "renamed",
            {"name": "original-name", "description": "renamed-by-hand connector", "server": FAR},
            {},
            renamed.id,
        ),
        _resource(
            "recreated",
            {"name": "recreated", "description": "recreated connector", "server": FAR},
            {},
            str(uuid.uuid4()),
        ),
    )
    path = _write(env, doc)
    result = env.drift("--stack-export", path, "--format", "json")
    assert result.code == 2, result.err
    report = json.loads(result.out)
    found = [(f["class"], f["connector"], f.get("property")) for f in report["findings"]]
    assert found == [
        ("settings", "original-name", "name"),
        ("settings", "recreated", "connector_id"),
        ("settings", "vault", "headers"),
    ]
    assert report["unknown"] == {"docs": ["headers"]}  # ciphertext: compared as unknown, never as drift
    assert report["summary"]["tools_checked"] == 1 and report["summary"]["unmanaged"] == 0
    assert "live-vault-header" not in result.out and "declared-vault-header" not in result.out
    assert recreated.id in result.out

    env.demo.admin.apply({"op": "rug_pull"})  # recorded tools (no pins): drift since the last deployment
    env.monkeypatch_stdin(json.dumps(doc))
    report = json.loads(env.drift("--stack-export", "-", "--format", "json").out)
    tool_findings = [(f["tool"], f["change"], f["policy"]) for f in report["findings"] if f["class"] == "tools"]
    assert tool_findings == [
        ("echo", "removed", "warn"),
        ("exfiltrate", "added", "warn"),
        ("search_docs", "changed", "warn"),
        ("slow", "changed", "warn"),
    ]


def test_real_stack_state(env: Env) -> None:
    """A stack deployed through the real provider (the stack runner's state file), then changed by hand."""
    from pulumi_mistral.testing.stack_runner import StackRunner

    def program() -> None:
        from pulumi_mistral import Connector

        Connector(
            "docs",
            name="docs",
            description="docs connector",
            server=env.demo.url,
            headers={"X-Api-Key": "stack-header-canary"},
        )

    config = env.server.config()
    with StackRunner(program, project="drift", config=config, in_process=True) as stack:
        stack.up()
        clean = env.drift("--stack-export", str(stack.state_path))
        assert clean.code == 0, clean.out + clean.err
        live = env.client.get("docs")
        env.client.update(live.id, description="edited in the console", headers={"X-Api-Key": "console-canary"})
        result = env.drift("--stack-export", str(stack.state_path), "--format", "sarif")
        assert result.code == 2
        messages = sorted(r["message"]["text"] for r in json.loads(result.out)["runs"][0]["results"])
        assert messages == [
            "Connector 'docs': settings drift: description: declared docs connector, live edited in the console.",
            "Connector 'docs': settings drift: headers changed. header 'X-Api-Key' value changed.",
        ]
        assert "stack-header-canary" not in result.out and "console-canary" not in result.out
        stack.destroy()


def _bulk_create(env: Env, count: int) -> None:
    def post(i: int) -> None:
        r = http.post(
            "/v1/connectors",
            json={
                "name": f"bulk-{i:04d}",
                "description": f"bulk {i}",
                "server": FAR,
                "headers": {"X-Api-Key": f"bulk-secret-{i}"},
            },
        )
        r.raise_for_status()

    with (
        httpx.Client(base_url=env.server.url, headers=env.server.headers(), timeout=30) as http,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        list(pool.map(post, range(count)))


@pytest.mark.parametrize("count", [pytest.param(1000, id="1000"), pytest.param(200, id="200")])
def test_workspace_scan_settings_part_in_few_requests(env: Env, count: int) -> None:
    _bulk_create(env, count)
    live = {c.name: c for c in env.client.iter_connectors(page_size=1000)}
    assert len(live) == count
    resources = [
        _resource(
            name,
            {"name": name, "description": c.description, "server": FAR, "headers": {**SIG, "ciphertext": "v1:x"}},
            {},
            c.id,
        )
        for name, c in live.items()
        if name != "bulk-0000"  # one unmanaged
    ]
    resources[1]["inputs"]["description"] = "declared differently"  # one settings drift
    resources.append(
        _resource("ghost", {"name": "ghost", "description": "gone", "server": FAR}, {}, str(uuid.uuid4()))
    )  # one deleted
    path = _write(env, _export(*resources))
    env.controls.clear_requests()
    started = time.monotonic()
    result = env.drift("--stack-export", path, "--format", "json", "-v")
    elapsed = time.monotonic() - started
    assert result.code == 2, result.err
    report = json.loads(result.out)
    assert report["summary"] | {"requests": None} == {
        "declared": count,
        "live": count,
        "ignored": 0,
        "tools_checked": 0,
        "findings": 3,
        "settings": 1,
        "tools": 0,
        "deleted": 1,
        "unmanaged": 1,
        "errors": 0,
        "requests": None,
    }
    logged = env.controls.requests(api_only=True)
    assert len(logged) == report["summary"]["requests"]["total"] < 30
    assert len(logged) <= 2  # 1,000 per page: one page, plus the empty last page when exactly full
    assert elapsed < 30
    print(f"\n{count} connectors: {len(logged)} API requests, {elapsed:.2f}s")  # shown with -s


@pytest.fixture(autouse=True)
def _helpers(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.monkeypatch_stdin = lambda text: monkeypatch.setattr("sys.stdin", io.StringIO(text))
