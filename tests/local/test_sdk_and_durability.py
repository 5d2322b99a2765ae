"""The official SDK against the local server; persistence across restart and SIGKILL; concurrent writers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as sdk_errors

from mcp_servers.runner import DemoServer
from pulumi_mistral.testing.local_process import local_command
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.processes import spawn, stop_process


def test_official_sdk_parses_every_answer(local_server: LocalServer) -> None:
    mistral = Mistral(api_key=local_server.api_key, server_url=local_server.url)
    conn = mistral.beta.connectors
    created = conn.create(
        name="sdk_conn",
        description="demo",
        server="https://mcp.example.com/",
        headers={"X-Org": "1"},
        auth_data={"client_id": "cid", "client_secret": "sec"},
        visibility="private",
        system_prompt="Be nice",
    )
    assert created.name == "sdk_conn" and created.auth_type == "oauth2" and created.tools is None
    assert conn.get(connector_id_or_name="sdk_conn").id == created.id
    assert (
        conn.get(connector_id_or_name=created.id, fetch_connection_secrets=True, fetch_customer_data=True).id
        == created.id
    )
    for i in range(3):
        conn.create(name=f"more_{i}", description="d", server="https://mcp.example.com/")
    page = conn.list(page_size=2)
    assert len(page.items) == 2 and page.pagination.next_cursor
    rest = conn.list(
        page_size=10,
        cursor=page.pagination.next_cursor,
        query_filters={"active": True, "fetch_connection_secrets": True},
    )
    assert len(rest.items) == 2 and rest.pagination.next_cursor is None
    updated = conn.update(connector_id=created.id, description="new", system_prompt=None, connection_config={"k": "v"})
    assert updated.description == "new"
    assert conn.update(connector_id=created.id).modified_at == updated.modified_at
    with pytest.raises(sdk_errors.HTTPValidationError) as bad:
        conn.create(name="bad name", description="d", server="https://mcp.example.com/")
    assert bad.value.data.detail[0].loc == ["body", "name"]
    with pytest.raises(sdk_errors.HTTPValidationError):
        conn.list(page_size=0)
    with pytest.raises(sdk_errors.SDKError) as missing:
        conn.get(connector_id_or_name="nope")
    assert missing.value.status_code == 404
    with pytest.raises(sdk_errors.SDKError) as dup:
        conn.create(name="sdk_conn", description="d", server="https://mcp.example.com/")
    assert dup.value.status_code == 409
    with pytest.raises(sdk_errors.SDKError) as no_oauth:
        conn.get_auth_url(connector_id_or_name="more_0")
    assert no_oauth.value.status_code == 400
    assert conn.delete(connector_id=created.id).message == "Connector deleted"
    with pytest.raises(sdk_errors.SDKError) as unauthorized:
        Mistral(api_key="wrong", server_url=local_server.url).beta.connectors.list()
    assert unauthorized.value.status_code == 401


def test_official_sdk_lists_and_calls_tools(local_server: LocalServer, demo: DemoServer) -> None:
    """The two MCP operations through the official SDK (the other six are above): list_tools, call_tool."""
    conn = Mistral(api_key=local_server.api_key, server_url=local_server.url).beta.connectors
    demo.admin.reset()
    created = conn.create(name="sdk_tools", description="demo", server=demo.url, headers={"X-Org": "acme"})
    tools = conn.list_tools(connector_id_or_name="sdk_tools")
    assert [t.name for t in tools] == ["search_docs", "echo", "whoami", "always_fails", "slow"]
    page = conn.list_tools(connector_id_or_name=created.id, page=2, page_size=2, refresh=True)
    assert [t.name for t in page] == ["whoami", "always_fails"]
    pretty = conn.list_tools(connector_id_or_name="sdk_tools", pretty=True)
    assert [t.name for t in pretty] == ["search_docs", "echo", "whoami", "always_fails", "slow"]
    echoed = conn.call_tool(connector_id_or_name="sdk_tools", tool_name="echo", arguments={"text": "hi there"})
    assert [c.text for c in echoed.content if c.type == "text"] == ["hi there"]
    assert echoed.metadata is not None and echoed.metadata.mcp_meta is not None
    assert echoed.metadata.mcp_meta.is_error is False
    failed = conn.call_tool(
        connector_id_or_name=created.id, tool_name="always_fails", arguments={}, credentials_name="default"
    )
    assert failed.metadata is not None and failed.metadata.mcp_meta is not None
    assert failed.metadata.mcp_meta.is_error is True
    whoami = conn.call_tool(connector_id_or_name="sdk_tools", tool_name="whoami")
    assert whoami.metadata.mcp_meta.structured_content["headers"]["x-org"] == "acme"  # type: ignore[union-attr]


def test_persistence_across_restart(local_server: LocalServer) -> None:
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as http:
        created = http.post(
            "/v1/connectors",
            json={"name": "keep", "description": "d", "server": "https://x.example", "headers": {"H": "v"}},
        ).json()
    local_server.restart()
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as http:
        again = http.get("/v1/connectors/keep", params={"fetch_connection_secrets": "true"}).json()
    assert again["id"] == created["id"] and again["headers"] == {"H": "v"}


def test_concurrent_creates_no_errors_no_lost_rows(local_server: LocalServer) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20, timeout=10)

    def worker(i: int) -> None:
        with httpx.Client(base_url=local_server.url, headers=local_server.headers(), timeout=30) as http:
            barrier.wait()
            for j in range(10):
                resp = http.post(
                    "/v1/connectors", json={"name": f"t{i}-{j}", "description": "d", "server": "https://x.example"}
                )
                # the same name raced from every thread: exactly one may win
                dup = http.post(
                    "/v1/connectors", json={"name": f"same-{j}", "description": "d", "server": "https://x.example"}
                )
                with lock:
                    statuses.extend([resp.status_code, dup.status_code])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert 500 not in statuses and len(statuses) == 400
    assert statuses.count(201) == 200 + 10 and statuses.count(409) == 190
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as http:
        items = http.get("/v1/connectors", params={"page_size": 1000}).json()["items"]
    assert len(items) == 210 and len({c["name"] for c in items}) == 210


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, key: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/connectors", headers={"Authorization": f"Bearer {key}"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("server did not come up")


def _spawn(db: Path, port: int, key: str) -> subprocess.Popen[bytes]:
    return spawn(
        local_command(port, db),
        env={**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    db, port, key = tmp_path / "kill.db", _free_port(), "sigkill-test-key"
    url = f"http://127.0.0.1:{port}"
    proc = _spawn(db, port, key)
    try:
        _wait_up(url, key, time.monotonic() + 20)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            ids = [
                http.post(
                    "/v1/connectors", json={"name": f"k{i}", "description": "d", "server": "https://x.example"}
                ).json()["id"]
                for i in range(50)
            ]
        stop_process(proc, signal.SIGKILL)  # no shutdown, no checkpoint
        proc = _spawn(db, port, key)
        _wait_up(url, key, time.monotonic() + 20)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            listed = [c["id"] for c in http.get("/v1/connectors", params={"page_size": 100}).json()["items"]]
        assert listed == ids
    finally:
        stop_process(proc, signal.SIGTERM)  # clean shutdown path of the CLI (SIGKILL after 10 s)
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert key not in out  # keys given by the operator are never printed
    assert proc.returncode == 0
