"""Test controls and fault injection: status + Retry-After, latency, drop, drop_after_commit, seeds, times."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pulumi_mistral.errors import ServerError
from pulumi_mistral.testing.local_server import LocalServer


@pytest.fixture
def http(local_server: LocalServer) -> httpx.Client:
    with httpx.Client(base_url=local_server.url, headers=local_server.headers(), timeout=15) as client:
        yield client


def faults(http: httpx.Client, *rules: dict[str, Any]) -> None:
    resp = http.post("/_local/faults", json={"rules": list(rules)})
    assert resp.status_code == 200, resp.text


def create(http: httpx.Client, name: str) -> httpx.Response:
    return http.post("/v1/connectors", json={"name": name, "description": "d", "server": "https://x.example"})


def test_status_with_retry_after(http: httpx.Client) -> None:
    faults(http, {"action": "status", "status": 503, "retry_after": 2, "path": "^/v1/connectors$", "times": 1})
    resp = http.get("/v1/connectors")
    assert resp.status_code == 503 and resp.headers["retry-after"] == "2"
    assert isinstance(resp.json()["detail"], str) and resp.headers["x-request-id"]
    assert http.get("/v1/connectors").status_code == 200  # times=1: spent


def test_status_429_without_retry_after(http: httpx.Client) -> None:
    faults(http, {"action": "status", "status": 429, "times": 2})
    assert [http.get("/v1/connectors").status_code for _ in range(3)] == [429, 429, 200]
    assert "retry-after" not in http.get("/v1/connectors").headers


def test_latency(http: httpx.Client) -> None:
    faults(http, {"action": "latency", "latency_ms": 300, "method": "GET", "times": 1})
    started = time.perf_counter()
    assert http.get("/v1/connectors").status_code == 200
    assert time.perf_counter() - started >= 0.28
    started = time.perf_counter()
    http.get("/v1/connectors")
    assert time.perf_counter() - started < 0.25


def test_latency_then_status_compose(http: httpx.Client) -> None:
    faults(http, {"action": "latency", "latency_ms": 150, "times": 1}, {"action": "status", "status": 500, "times": 1})
    started = time.perf_counter()
    assert http.get("/v1/connectors").status_code == 500
    assert time.perf_counter() - started >= 0.14


def test_drop_is_a_transport_error_and_nothing_happens(http: httpx.Client) -> None:
    faults(http, {"action": "drop", "method": "POST", "path": "^/v1/connectors$", "times": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        create(http, "dropped")
    assert http.get("/v1/connectors/dropped").status_code == 404  # never processed
    assert create(http, "dropped").status_code == 201


def test_drop_after_commit_is_ambiguous_create(http: httpx.Client) -> None:
    faults(http, {"action": "drop_after_commit", "method": "POST", "path": "^/v1/connectors$", "times": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        create(http, "landed")
    assert http.get("/v1/connectors/landed").status_code == 200  # it was committed
    assert create(http, "landed").status_code == 409  # a blind retry now conflicts


def test_seed_reproducibility(local_server: LocalServer, http: httpx.Client) -> None:
    rule = {"action": "status", "status": 502, "probability": 0.5, "seed": 1234, "path": "^/v1/connectors$"}

    def run() -> list[int]:
        faults(http, rule)
        return [http.get("/v1/connectors").status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 5 < first.count(502) < 35  # it is random, not all-or-nothing
    faults(http, {**rule, "seed": 99})
    assert [http.get("/v1/connectors").status_code for _ in range(40)] != first


def test_probability_zero_and_method_filter(http: httpx.Client) -> None:
    faults(
        http,
        {"action": "status", "status": 500, "probability": 0.0},
        {"action": "status", "status": 503, "method": "DELETE"},
    )
    assert http.get("/v1/connectors").status_code == 200
    assert http.delete("/v1/connectors/x").status_code == 503


def test_faults_never_apply_to_local_controls(http: httpx.Client) -> None:
    faults(http, {"action": "drop"})
    assert http.get("/_local/faults").status_code == 200
    assert http.get("/_local/requests").status_code == 200
    assert http.delete("/_local/faults").status_code == 200
    assert http.get("/v1/connectors").status_code == 200


def test_fault_listing_counts(http: httpx.Client) -> None:
    faults(http, {"action": "status", "status": 503, "times": 2})
    http.get("/v1/connectors")
    rules = http.get("/_local/faults").json()["rules"]
    assert rules[0]["fired"] == 1 and rules[0]["remaining"] == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "explode"},
        {"action": "status", "status": 200},
        {"action": "status", "probability": 2},
        {"action": "status", "path": "("},
        {"action": "latency", "latency_ms": -1},
        {"action": "status", "times": 0},
    ],
)
def test_bad_rules_are_422(http: httpx.Client, rule: dict[str, Any]) -> None:
    resp = http.post("/_local/faults", json={"rules": [rule]})
    assert resp.status_code == 422 and isinstance(resp.json()["detail"], list)


def test_request_log(http: httpx.Client) -> None:
    http.delete("/_local/requests")
    http.get("/v1/connectors", params={"page_size": 5})
    create(http, "logged")
    http.get("/v1/connectors/nope")
    entries = http.get("/_local/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/v1/connectors", 200),
        ("POST", "/v1/connectors", 201),
        ("GET", "/v1/connectors/nope", 404),
    ]
    assert entries[0]["query"] == "page_size=5"
    assert set(entries[0]) == {"method", "path", "query", "status", "time", "duration_ms", "fault", "request_id"}
    text = http.get("/_local/requests").text
    assert "Bearer" not in text and "authorization" not in text.lower()
    http.delete("/_local/requests")
    assert http.get("/_local/requests").json()["requests"] == []


def test_request_log_is_bounded_and_its_total_is_not(http: httpx.Client, local_server: LocalServer) -> None:
    size = local_server.settings.request_log_size
    http.delete("/_local/requests")
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as c:
        for _ in range(size + 20):
            c.get("/v1/nothing")
    log = http.get("/_local/requests").json()
    assert len(log["requests"]) == size
    assert log["total"] == size + 20  # the count benchmarks use: it never saturates
    http.delete("/_local/requests")
    assert http.get("/_local/requests").json()["total"] == 0


def test_reset_and_state(local_server: LocalServer) -> None:
    with LocalServer(api_keys=["ws-one-key", "ws-two-key"]) as server:
        one = httpx.Client(base_url=server.url, headers=server.headers("ws-one-key"))
        two = httpx.Client(base_url=server.url, headers=server.headers("ws-two-key"))
        one.post(
            "/v1/connectors",
            json={"name": "a", "description": "d", "server": "https://x.example", "headers": {"X-Secret": "hv"}},
        )
        two.post("/v1/connectors", json={"name": "b", "description": "d", "server": "https://x.example"})
        state = one.get("/_local/state").json()
        assert [c["name"] for c in state["connectors"]] == ["a"]
        assert state["connectors"][0]["headers"] == {"X-Secret": "hv"}  # the export includes secrets
        assert one.post("/_local/reset").json() == {"deleted": 1}
        assert one.get("/v1/connectors").json()["items"] == []
        assert len(two.get("/v1/connectors").json()["items"]) == 1  # other workspace untouched
        assert two.post("/_local/reset", params={"all": "true"}).json() == {"deleted": 1}
        assert two.get("/v1/connectors").json()["items"] == []
        one.close()
        two.close()


def test_controls_need_a_key(local_server: LocalServer) -> None:
    for method, path in [
        ("POST", "/_local/reset"),
        ("GET", "/_local/state"),
        ("GET", "/_local/requests"),
        ("DELETE", "/_local/requests"),
        ("POST", "/_local/faults"),
        ("DELETE", "/_local/faults"),
    ]:
        resp = httpx.request(method, local_server.url + path, json={"rules": [{"action": "drop"}]})
        assert resp.status_code == 401, path


def test_controls_can_be_disabled() -> None:
    with LocalServer(enable_test_controls=False) as server:
        for path in ("/_local/state", "/_local/requests", "/_local/faults"):
            assert httpx.get(server.url + path, headers=server.headers()).status_code == 404
        assert httpx.get(server.url + "/v1/connectors", headers=server.headers()).status_code == 200


def test_the_controls_client_drives_every_route() -> None:
    """``pulumi_mistral.testing.controls.Controls``, as both server handles give it out: one per key, closed with
    the server, each call raising on a refusal."""
    with LocalServer(api_keys=["ws-one-key", "ws-two-key"]) as server:
        one, two = server.controls(), server.controls("ws-two-key")
        assert server.controls("ws-one-key") is one and two is not one
        with server.client() as client:
            client.create(name="a", description="d", server="https://x.example", headers={"X-Secret": "hv"})
        with server.client("ws-two-key") as client:
            client.create(name="b", description="d", server="https://x.example")
        assert [c["name"] for c in one.connectors()] == ["a"] and one.connectors()[0]["headers"] == {"X-Secret": "hv"}
        assert one.state()["oauth"] == {"pending_states": 0, "connectors_with_token": []}
        assert one.calls() == ["POST /v1/connectors", "POST /v1/connectors"] and one.request_total() == 2
        assert two.requests() == one.requests()  # the log is server-wide
        rules = one.set_faults(
            [{"method": "GET", "path": "^/v1/connectors$", "action": "status", "status": 503, "times": 1}]
        )
        assert [r["status"] for r in rules] == [503] and one.faults() == rules
        with server.client(max_attempts=1) as client, pytest.raises(ServerError):
            client.list()
        assert one.faults()[0]["fired"] == 1
        one.set_latency(200)
        assert [r["action"] for r in one.faults()] == ["latency"]
        one.set_latency(0)
        assert one.faults() == []
        one.clear_requests()
        with httpx.Client(base_url=server.url, headers=server.headers()) as http:
            http.get("/v1/connectors")
            http.get("/oauth/callback")
        assert [r["path"] for r in one.requests(api_only=True)] == ["/v1/connectors"]
        assert len(one.requests()) == 2
        assert one.reset() == 1 and [c["name"] for c in two.connectors()] == ["b"]  # per workspace
        one.set_faults([{"action": "latency", "latency_ms": 1}])
        one.clear()  # every workspace, the rules, the log
        assert two.connectors() == [] and one.faults() == [] and one.request_total() == 0
        with pytest.raises(httpx.HTTPStatusError):
            one.set_faults([{"action": "explode"}])
        one.close()
        assert server.controls() is not one and server.controls().request_total() >= 0  # a closed one is replaced
    assert two.closed  # closed with the server
