"""CRUD of the local server over real HTTP: status codes, shapes (validated against the contract), rules."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from pulumi_mistral.testing.local_server import LocalServer

ALWAYS = {
    "id",
    "name",
    "description",
    "created_at",
    "modified_at",
    "server",
    "auth_type",
    "tools",
    "visibility",
    "icon_url",
    "system_prompt",
    "connection_config",
    "header_names",
    "auth_data",
    "connection_secret_names",
}


def test_create_returns_201_and_full_shape(api: Any, check: Any) -> None:
    resp = api.create(
        headers={"X-Org": "secret-value"},
        auth_data={"client_id": "cid", "client_secret": "csec"},
        icon_url=None,
        system_prompt="Be nice",
        visibility="private",
    )
    assert resp.status_code == 201
    body = check(resp, "connector_create_v1")
    assert set(body) == ALWAYS
    assert uuid.UUID(body["id"]).version == 4
    assert body["auth_type"] == "oauth2" and body["auth_data"] == {"client_id": "cid"}
    assert body["header_names"] == ["X-Org"] and "headers" not in body
    assert body["tools"] is None and body["visibility"] == "private"
    assert body["created_at"].endswith("Z") and body["created_at"] == body["modified_at"]
    assert "secret-value" not in resp.text and "csec" not in resp.text


def test_defaults(api: Any) -> None:
    body = api.create().json()
    assert body["visibility"] == "shared_workspace"
    assert body["auth_type"] == "none" and body["auth_data"] is None
    assert body["header_names"] == [] and body["connection_secret_names"] == []


def test_get_by_id_and_by_name(api: Any, check: Any) -> None:
    created = api.create().json()
    for key in (created["id"], created["name"]):
        resp = api.get(f"/v1/connectors/{key}", params={"fetch_customer_data": "true"})
        assert resp.status_code == 200
        assert check(resp, "connector_get_v1") == created


def test_get_prefers_id_over_name(api: Any) -> None:
    first = api.create().json()
    # a second connector whose *name* is the first one's id is impossible (names cannot hold '-'? they can:
    # uuids match the name rule), so the lookup order matters
    second = api.create(name=first["id"]).json()
    assert api.get(f"/v1/connectors/{first['id']}").json()["id"] == first["id"]
    assert api.get(f"/v1/connectors/{second['id']}").json()["name"] == first["id"]


def test_secrets_only_with_fetch_connection_secrets(api: Any) -> None:
    created = api.create(headers={"X-Key": "hv"}, auth_data={"client_id": "c", "client_secret": "s"}).json()
    api.patch(f"/v1/connectors/{created['id']}", json={"connection_secrets": {"tok": "sv"}})
    plain = api.get(f"/v1/connectors/{created['id']}").json()
    assert "headers" not in plain and "connection_secrets" not in plain
    assert plain["auth_data"] == {"client_id": "c"} and plain["connection_secret_names"] == ["tok"]
    full = api.get(f"/v1/connectors/{created['id']}", params={"fetch_connection_secrets": "true"}).json()
    assert full["headers"] == {"X-Key": "hv"}
    assert full["auth_data"] == {"client_id": "c", "client_secret": "s"}
    assert full["connection_secrets"] == {"tok": "sv"}
    listed = api.get("/v1/connectors", params={"page_size": 1000}).json()["items"]
    assert all("headers" not in c for c in listed)
    listed = api.get("/v1/connectors", params={"page_size": 1000, "fetch_connection_secrets": "true"}).json()
    assert next(c for c in listed["items"] if c["id"] == created["id"])["headers"] == {"X-Key": "hv"}


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/", "dot.name", "ünï", "new\nline"])
def test_bad_names_are_422(api: Any, name: str, check: Any) -> None:
    resp = api.create(name=name)
    assert resp.status_code == 422, name
    body = check(resp, "connector_create_v1")
    assert body["detail"][0]["loc"] == ["body", "name"]


def test_name_boundaries_accepted(api: Any) -> None:
    assert api.create(name="a" * 64).status_code in (201, 409)
    assert api.create(name=api.unique("A_b-9")).status_code == 201


def test_duplicate_name_is_409_per_workspace(api: Any, other_api: Any, check: Any) -> None:
    name = api.unique()
    assert api.create(name=name).status_code == 201
    resp = api.create(name=name)
    assert resp.status_code == 409
    assert name in check(resp, "connector_create_v1")["detail"]
    assert other_api.create(name=name).status_code == 201  # another workspace may use it


@pytest.mark.parametrize(
    "server",
    [
        "ftp://x.example",
        "not a url",
        "https://",
        "mailto:a@b.c",
        "/relative",
        "https://user:pw@host.example/",
        "http://host:99999/",
    ],
)
def test_bad_server_is_422(api: Any, server: str, check: Any) -> None:
    resp = api.create(server=server)
    assert resp.status_code == 422
    assert check(resp, "connector_create_v1")["detail"][0]["loc"] == ["body", "server"]
    assert "pw" not in resp.text or "user:pw" not in resp.text


@pytest.mark.parametrize(
    "body,loc",
    [
        ({"description": "d", "server": "https://x.example"}, ["body", "name"]),
        ({"name": "n", "server": "https://x.example"}, ["body", "description"]),
        ({"name": "n", "description": "d"}, ["body", "server"]),
        ({"name": "n", "description": "d", "server": "https://x.example", "extra": 1}, ["body", "extra"]),
        (
            {"name": "n", "description": "d", "server": "https://x.example", "visibility": "public"},
            ["body", "visibility"],
        ),
        ({"name": "n", "description": "d", "server": "https://x.example", "visibility": None}, ["body", "visibility"]),
        (
            {"name": "n", "description": "d", "server": "https://x.example", "auth_data": {"client_id": "x"}},
            ["body", "auth_data", "client_secret"],
        ),
        (
            {"name": "n", "description": "d", "server": "https://x.example", "headers": {"X": 1}},
            ["body", "headers", "X"],
        ),
        (
            {"name": "n", "description": "d", "server": "https://x.example", "headers": {"Bad Name": "v"}},
            ["body", "headers", "Bad Name"],
        ),
    ],
)
def test_create_validation_422(api: Any, body: dict, loc: list, check: Any) -> None:
    resp = api.post("/v1/connectors", json=body)
    assert resp.status_code == 422
    detail = check(resp, "connector_create_v1")["detail"]
    assert loc in [d["loc"] for d in detail]
    assert all(set(d) == {"loc", "msg", "type"} for d in detail)


def test_non_json_body_is_422(api: Any, check: Any) -> None:
    resp = api.post("/v1/connectors", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 422
    check(resp, "connector_create_v1")


def test_patch_tri_state(api: Any, check: Any) -> None:
    created = api.create(icon_url="https://i.example/x.png", system_prompt="p").json()
    url = f"/v1/connectors/{created['id']}"
    # absent = unchanged; {} changes nothing and keeps modified_at
    same = api.patch(url, json={})
    assert same.status_code == 200 and check(same, "connector_update_v1") == created
    # null clears an optional field
    cleared = api.patch(url, json={"icon_url": None}).json()
    assert cleared["icon_url"] is None and cleared["system_prompt"] == "p"
    assert cleared["modified_at"] > created["modified_at"] and cleared["created_at"] == created["created_at"]
    # values change
    changed = api.patch(url, json={"description": "new", "connection_config": {"k": "v"}}).json()
    assert changed["description"] == "new" and changed["connection_config"] == {"k": "v"}
    assert changed["system_prompt"] == "p"
    # null on a required field is a 422 on that field
    for field in ("name", "description", "server"):
        resp = api.patch(url, json={field: None})
        assert resp.status_code == 422
        assert check(resp, "connector_update_v1")["detail"][0]["loc"] == ["body", field]
    # auth_data set then cleared moves auth_type
    assert api.patch(url, json={"auth_data": {"client_id": "a", "client_secret": "b"}}).json()["auth_type"] == "oauth2"
    assert api.patch(url, json={"auth_data": None}).json()["auth_type"] == "none"


def test_patch_rename_rules(api: Any) -> None:
    a, b = api.create().json(), api.create().json()
    assert api.patch(f"/v1/connectors/{a['id']}", json={"name": b["name"]}).status_code == 409
    assert api.patch(f"/v1/connectors/{a['id']}", json={"name": "bad name"}).status_code == 422
    assert api.patch(f"/v1/connectors/{a['id']}", json={"server": "gopher://x"}).status_code == 422
    new = api.unique()
    assert api.patch(f"/v1/connectors/{a['id']}", json={"name": new}).json()["name"] == new
    assert api.get(f"/v1/connectors/{new}").json()["id"] == a["id"]
    assert api.get(f"/v1/connectors/{a['name']}").status_code == 404


def test_update_and_delete_take_an_id_only(api: Any, check: Any) -> None:
    created = api.create().json()
    for method in ("PATCH", "DELETE"):
        resp = api.request(method, f"/v1/connectors/{created['name']}", json={} if method == "PATCH" else None)
        assert resp.status_code == 404
        assert "id" in check(resp, "connector_update_v1")["detail"]


def test_delete(api: Any, check: Any) -> None:
    created = api.create().json()
    resp = api.delete(f"/v1/connectors/{created['id']}")
    assert resp.status_code == 200
    assert check(resp, "connector_delete_v1") == {"message": "Connector deleted"}
    again = api.delete(f"/v1/connectors/{created['id']}")
    assert again.status_code == 404
    assert api.get(f"/v1/connectors/{created['id']}").status_code == 404
    assert api.create(name=created["name"]).status_code == 201  # the name is free again


def test_unknown_connector_404(api: Any, check: Any) -> None:
    for path in ("/v1/connectors/nope", f"/v1/connectors/{uuid.uuid4()}"):
        resp = api.get(path)
        assert resp.status_code == 404
        check(resp, "connector_get_v1")


def test_auth_401(shared_server: LocalServer, check: Any) -> None:
    cases = [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {shared_server.api_key}x"},
    ]
    for headers in cases:
        for method, path in [
            ("GET", "/v1/connectors"),
            ("POST", "/v1/connectors"),
            ("GET", "/v1/connectors/x"),
            ("PATCH", "/v1/connectors/x"),
            ("DELETE", "/v1/connectors/x"),
            ("GET", "/v1/connectors/x/tools"),
            ("POST", "/v1/connectors/x/tools/t/call"),
            ("GET", "/v1/connectors/x/auth_url"),
            ("GET", "/_local/state"),
        ]:
            resp = httpx.request(method, shared_server.url + path, headers=headers, json={})
            assert resp.status_code == 401, (method, path, headers)
            assert resp.headers["www-authenticate"] == "Bearer"
            check(resp, "connector_list_v1")
            assert shared_server.api_key not in resp.text


def test_bearer_prefix_case_insensitive(shared_server: LocalServer) -> None:
    resp = httpx.get(shared_server.url + "/v1/connectors", headers={"Authorization": f"bearer {shared_server.api_key}"})
    assert resp.status_code == 200


def test_workspace_isolation(api: Any, other_api: Any) -> None:
    mine = api.create().json()
    for key in (mine["id"], mine["name"]):
        assert other_api.get(f"/v1/connectors/{key}").status_code == 404
        assert other_api.get(f"/v1/connectors/{key}/tools").status_code == 404
        assert other_api.post(f"/v1/connectors/{key}/tools/x/call", json={}).status_code == 404
        assert other_api.get(f"/v1/connectors/{key}/auth_url").status_code == 404
    assert other_api.patch(f"/v1/connectors/{mine['id']}", json={"description": "x"}).status_code == 404
    assert other_api.delete(f"/v1/connectors/{mine['id']}").status_code == 404
    assert api.get(f"/v1/connectors/{mine['id']}").json()["description"] == mine["description"]
    theirs = {c["id"] for c in other_api.get("/v1/connectors", params={"page_size": 1000}).json()["items"]}
    assert mine["id"] not in theirs


def test_request_id_echo_and_generated(api: Any) -> None:
    assert api.get("/v1/connectors", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = api.get("/v1/connectors", headers={"x-request-id": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces" and len(generated) >= 16


def test_unknown_route_and_method_are_json(api: Any) -> None:
    resp = api.get("/v1/nothing")
    assert resp.status_code == 404 and isinstance(resp.json()["detail"], str)
    resp = api.put("/v1/connectors")
    assert resp.status_code == 405 and isinstance(resp.json()["detail"], str)


def test_fixture_plugin_local_server(local_server: LocalServer) -> None:
    resp = httpx.get(local_server.url + "/v1/connectors", headers=local_server.headers())
    assert resp.json() == {"items": [], "pagination": {"page_size": 100, "next_cursor": None}}
    assert local_server.api_key not in repr(local_server)
