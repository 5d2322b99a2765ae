"""Secrets never leak: whole lifecycles with recognisable canary secrets, then every place text goes is scanned.

Scanned: the provider subprocess's stdout/stderr, Python logging at DEBUG (the local server runs in this
process, so its logs are included), every exception's str/repr/traceback, the pickled ``__provider``, the stack
state's plain-text fields (everything outside secret markers), and the local server's request log.

What the stack runner stores: the state JSON keeps secret inputs and outputs as wire secret markers
(``{"4dab…": "1b47…", "value": …}``) holding the plain value (a test tool: the real engine encrypts them). The
canaries must appear only inside those markers, and the API key must not appear at all.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from pulumi_mistral.provider import reset_process_state
from pulumi_mistral.testing.engine import ProviderCallError
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

MCP = "https://mcp.example.com/mcp"
TAG = secrets.token_hex(6)
CANARIES = {
    "api_key": f"sk-canary-APIKEY-{TAG}",
    "header": f"canary-HEADER-{TAG}",
    "header2": f"canary-HEADER2-{TAG}",
    "client_secret": f"canary-CLIENTSECRET-{TAG}",
    "connection_secret": f"canary-CONNSECRET-{TAG}",
}


def _leaks(text: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    return [name for name, value in CANARIES.items() if name not in allowed and value in text]


def _without_secrets(value: Any) -> Any:
    """The state with every secret marker's value removed: what a reader sees in plain text."""
    if rpc.is_rpc_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


class CapturingRunner(StackRunner):
    """A stack runner that keeps what each provider subprocess printed before it is stopped."""

    captured: list[str]

    def _stop_engine(self) -> None:
        if not hasattr(self, "captured"):
            self.captured = []
        if self.host is not None:
            self.captured.append(self.host.logs())
        super()._stop_engine()


def _program(declared: dict[str, dict[str, Any]]) -> Any:
    def program() -> None:
        import pulumi

        from pulumi_mistral import Connector

        for res_name, kwargs in declared.items():
            c = Connector(res_name, **kwargs)
            pulumi.export(f"{res_name}_headers", c.headers)
            pulumi.export(f"{res_name}_id", c.connector_id)

    return program


@pytest.fixture
def server() -> Iterator[LocalServer]:
    reset_process_state()
    with LocalServer(api_keys=[CANARIES["api_key"]]) as s:
        yield s
    reset_process_state()


def test_whole_lifecycle_leaks_no_secret(server: LocalServer, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    http = server.client()
    controls = server.controls()
    errors: list[BaseException] = []
    declared: dict[str, dict[str, Any]] = {
        "docs": {
            "name": "docs",
            "description": "Docs",
            "server": MCP,
            "headers": {"X-Api-Key": CANARIES["header"]},
            "auth_data": {"client_id": "docs-app", "client_secret": CANARIES["client_secret"]},
            "connection_secrets": {"token": CANARIES["connection_secret"]},
        }
    }
    # Two attempts per request: the failures under faults below are what is scanned, not the retries' waits.
    config = {**server.config(), "mistral:maxAttempts": "2"}
    state_path = tmp_path / "state.json"
    stack = CapturingRunner(_program(declared), project="scan", config=config, state_path=state_path)
    try:
        up = stack.up()  # the provider runs as a `python -m pulumi.dynamic` subprocess
        assert {"docs_headers"} <= up.secret_outputs
        declared["docs"]["headers"] = {"X-Api-Key": CANARIES["header2"]}
        stack.up()
        assert stack.refresh().drift == {}
        # a failing check: the bad value holds a canary, the message must not
        declared["bad"] = {
            "name": "bad",
            "description": "d",
            "server": MCP,
            "headers": {"X-Api-Key": f"{CANARIES['header']}\r\nX-Evil: 1"},
        }
        with pytest.raises(StackRunError) as check_error:
            stack.up()
        errors.append(check_error.value)
        del declared["bad"]
        # a failing create under faults (every create and look-up fails), then a failing delete
        declared["more"] = {
            "name": "more",
            "description": "d",
            "server": MCP,
            "headers": {"X-Api-Key": CANARIES["header"]},
            "connection_secrets": {"token": CANARIES["connection_secret"]},
        }
        controls.set_faults([{"method": "*", "path": r"^/v1/", "action": "status", "status": 503}])
        with pytest.raises(StackRunError) as create_error:
            stack.up()
        errors.append(create_error.value)
        with pytest.raises(ProviderCallError) as delete_error:
            stack.destroy()
        errors.append(delete_error.value)
        controls.clear_faults()
        del declared["more"]
        state_text = state_path.read_text()
        state = json.loads(state_text)["resources"]
        stack.destroy()
    finally:
        stack.close()
        http.close()

    # exceptions: text, repr, the whole chain and the traceback
    for exc in errors:
        text = "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])
        assert _leaks(text) == [], (type(exc).__name__, _leaks(text))
    # provider subprocess output of every run
    assert stack.captured and _leaks("\n".join(stack.captured)) == []
    # Python logging at DEBUG (httpx, the local server in this process, pulumi)
    assert _leaks("\n".join(r.getMessage() for r in caplog.records)) == []
    assert _leaks(caplog.text) == []
    # the pickled provider, decoded
    for res in state.values():
        for bag in (res["inputs"], res["outputs"]):
            raw = base64.b64decode(rpc.unwrap_rpc_secret(bag["__provider"]))
            assert _leaks(raw.decode("latin-1")) == []
    # the state: the API key nowhere; the other canaries only inside secret markers
    assert _leaks(state_text, allowed=("header", "header2", "client_secret", "connection_secret")) == []
    assert _leaks(json.dumps(_without_secrets(state))) == []
    docs = next(r for urn, r in state.items() if urn.endswith("::docs"))
    for bag in (docs["inputs"], docs["outputs"]):
        for key in ("headers", "auth_data", "connection_secrets"):
            assert rpc.is_rpc_secret(bag[key]), (key, "not marked secret")
    # the local server's request log (paths and queries only), as the route answers it
    log_text = controls.http.get("/_local/requests").raise_for_status().text
    assert _leaks(log_text) == []


def test_provider_errors_redact_secrets_the_server_echoes(server: LocalServer) -> None:
    """A 422 from the server about a header value: the client's message names the field, never the value."""
    from pulumi_mistral import errors

    client = server.client()
    try:
        with pytest.raises(errors.MistralError) as caught:
            client.create(name="echo", description="d", server=MCP, headers={"X-Api-Key": f"{CANARIES['header']}\x01"})
    finally:
        client.close()
    text = "\n".join([str(caught.value), repr(caught.value), *traceback.format_exception(caught.value)])
    assert _leaks(text) == []
