"""Each rule on its own: what passes, what fails with which words, and silence on values not known yet."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_mistral.policy.config import defaults
from pulumi_mistral.policy.rules import RULES, RULES_BY_ID, SERVER_DEFAULT_VISIBILITY, shown_url
from pulumi_mistral.policy.view import NATIVE_TYPE, UNKNOWN, ConnectorView, declared_view, live_view

PIN = "sha256:" + "a" * 64


def check(rule_id: str, props: dict[str, Any], resource: str = "docs", **params: Any) -> list[str]:
    rule = RULES_BY_ID[rule_id]
    assert rule.scope == "resource"
    return list(rule.check(declared_view(resource, props), {**defaults(rule_id), **params}))


def check_stack(rule_id: str, views: list[ConnectorView], **params: Any) -> list[tuple[str, str | None]]:
    rule = RULES_BY_ID[rule_id]
    assert rule.scope == "stack"
    return list(rule.check(views, {**defaults(rule_id), **params}))


def test_ids_are_stable_kebab_case_with_one_line_descriptions() -> None:
    assert [r.id for r in RULES] == [
        "connector-server-https",
        "connector-server-host",
        "connector-visibility",
        "connector-shared-tools-tracked",
        "connector-name-pattern",
        "connector-description",
        "connector-names-unique",
        "connector-shared-org-limit",
        "connector-server-tool-policy",
    ]
    for rule in RULES:
        assert rule.description.endswith(".") and "\n" not in rule.description and len(rule.description) <= 90
    assert {r.id for r in RULES if r.live} == {
        "connector-server-https",
        "connector-server-host",
        "connector-visibility",
        "connector-name-pattern",
        "connector-description",
    }


# -- connector-server-https ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        "https://mcp.example.com/mcp",
        "HTTPS://MCP.example.com",
        "http://localhost:8080/mcp",
        "http://127.0.0.1:9/mcp",
        "http://[::1]:9/mcp",
        "http://docs.localhost/mcp",
    ],
)
def test_https_and_loopback_http_pass(server: str) -> None:
    assert check("connector-server-https", {"server": server}) == []


def test_plain_http_to_a_remote_host_fails_and_says_what_to_change() -> None:
    (message,) = check("connector-server-https", {"server": "http://mcp.example.com/mcp?token=abc"})
    assert message == (
        "server http://mcp.example.com/mcp?… uses plain http to mcp.example.com: use https:// (plain "
        "http is allowed only for a loopback host such as localhost or 127.0.0.1)"
    )
    assert "abc" not in message


def test_loopback_http_can_be_turned_off() -> None:
    (message,) = check("connector-server-https", {"server": "http://127.0.0.1:9/mcp"}, allowLoopbackHttp=False)
    assert "use https://" in message and "allowLoopbackHttp: false" in message


def test_https_rule_is_silent_on_unknown_or_unset_servers() -> None:
    assert check("connector-server-https", {"server": UNKNOWN}) == []
    assert check("connector-server-https", {}) == []


# -- connector-server-host ----------------------------------------------------------------------------------------


def test_host_allow_and_deny_lists() -> None:
    params = {"allowedHosts": ["*.example.com", "localhost"], "deniedHosts": ["*.untrusted.example.com"]}
    assert check("connector-server-host", {"server": "https://mcp.EXAMPLE.com./mcp"}, **params) == []
    assert check("connector-server-host", {"server": "http://localhost:9/mcp"}, **params) == []
    (denied,) = check("connector-server-host", {"server": "https://a.untrusted.example.com/mcp"}, **params)
    assert denied == (
        "server host a.untrusted.example.com matches the denied pattern '*.untrusted.example.com': "
        "register an MCP server on another host (or change deniedHosts)"
    )
    (outside,) = check("connector-server-host", {"server": "https://example.com/mcp"}, **params)
    assert outside == (
        "server host example.com is not allowed (allowedHosts: *.example.com, localhost): register "
        "an MCP server on an allowed host, or add the host to allowedHosts"
    )


def test_host_defaults_allow_every_host() -> None:
    assert check("connector-server-host", {"server": "https://anything.test/mcp"}) == []
    assert check("connector-server-host", {"server": UNKNOWN}, allowedHosts=["none"]) == []


# -- connector-visibility -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [None, "private", "shared_workspace", UNKNOWN])
def test_visibility_within_the_default_ceiling(visibility: Any) -> None:
    assert check("connector-visibility", {"visibility": visibility}) == []


def test_shared_org_is_allowed_nowhere_until_listed() -> None:
    (message,) = check("connector-visibility", {"name": "docs-search", "visibility": "shared_org"})
    assert message == (
        "visibility shared_org is above the allowed ceiling shared_workspace: set visibility to "
        "shared_workspace or lower, or list the name 'docs-search' in sharedOrgNames"
    )
    assert (
        check(
            "connector-visibility", {"name": "docs-search", "visibility": "shared_org"}, sharedOrgNames=["docs-search"]
        )
        == []
    )
    # listed names may be shared_org whatever the ceiling; others may not
    assert (
        check(
            "connector-visibility",
            {"name": "docs-search", "visibility": "shared_org"},
            sharedOrgNames=["docs-search"],
            maxVisibility="private",
        )
        == []
    )
    assert (
        check("connector-visibility", {"name": "other", "visibility": "shared_workspace"}, maxVisibility="private")
        != []
    )


def test_an_auto_named_connector_is_listed_by_its_prefix() -> None:
    props = {"name": "docs-h2g3fiy", "name_prefix": "docs", "visibility": "shared_org"}
    (message,) = check("connector-visibility", props)
    assert "list the name prefix 'docs' in sharedOrgNames" in message
    assert check("connector-visibility", props, sharedOrgNames=["docs"]) == []


def test_shared_global_needs_the_highest_ceiling() -> None:
    assert check("connector-visibility", {"visibility": "shared_global"}, sharedOrgNames=["docs"]) != []
    assert check("connector-visibility", {"visibility": "shared_global"}, maxVisibility="shared_global") == []
    (message,) = check("connector-visibility", {"visibility": "public"}, maxVisibility="shared_global")
    assert message.startswith("visibility 'public' is not one of private, shared_workspace")


# -- connector-shared-tools-tracked -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {"visibility": "private"},
        {"visibility": "shared_workspace", "tool_pins": {"search": PIN}},
        {"tool_drift": "block"},
        {"visibility": "shared_org", "tool_drift": "block"},
        {"visibility": "shared_workspace", "tool_pins": {"search": PIN}, "tool_drift": "audit"},
        {"visibility": UNKNOWN},
        {"visibility": "shared_workspace", "tool_pins": UNKNOWN},
        {"visibility": "shared_workspace", "tool_pins": {"search": UNKNOWN}},
        {"visibility": "shared_workspace", "tool_drift": UNKNOWN},
    ],
)
def test_tracked_private_or_unknown_pass(props: dict[str, Any]) -> None:
    assert check("connector-shared-tools-tracked", props) == []


@pytest.mark.parametrize(
    "props",
    [
        {"visibility": "shared_workspace"},
        {"visibility": "shared_org", "tool_drift": "warn"},
        {"visibility": "shared_workspace", "tool_pins": {}},
        {"visibility": "shared_global", "tool_drift": "audit"},
    ],
)
def test_untracked_shared_connectors_fail(props: dict[str, Any]) -> None:
    (message,) = check("connector-shared-tools-tracked", props)
    assert message == (
        f"visibility {props['visibility']} shares the connector, so it must track its MCP tools: set "
        "tool_pins (from `pulumi-mistral drift --write-pins`), or tool_drift: block"
    )


def test_an_unset_visibility_is_the_servers_default_which_is_shared() -> None:
    (message,) = check("connector-shared-tools-tracked", {"tool_drift": "warn"})
    assert message == (
        "unset visibility (the server's default: shared_workspace) shares the connector, so it must "
        "track its MCP tools: set visibility: private, or set tool_pins (from `pulumi-mistral drift "
        "--write-pins`), or tool_drift: block"
    )
    (above,) = check("connector-visibility", {}, maxVisibility="private")
    assert above == (
        "unset visibility (the server's default: shared_workspace) is above the allowed ceiling "
        "private: set visibility to private or lower"
    )


def test_the_default_visibility_is_the_local_servers() -> None:
    from pulumi_mistral.local.backend import DEFAULT_VISIBILITY

    assert SERVER_DEFAULT_VISIBILITY == DEFAULT_VISIBILITY


# -- connector-name-pattern and connector-description -------------------------------------------------------------


def test_name_pattern() -> None:
    assert check("connector-name-pattern", {"name": "Docs_search-1"}) == []  # the default: the API's own rule
    params = {"pattern": "^team-[a-z-]+$"}
    assert check("connector-name-pattern", {"name": "team-docs"}, **params) == []
    (message,) = check("connector-name-pattern", {"name": "docs"}, **params)
    assert message == "name 'docs' does not match ^team-[a-z-]+$: rename the connector"
    (drawn,) = check("connector-name-pattern", {"name": "docs-h2g3fiy", "name_prefix": "docs"}, **params)
    assert drawn == (
        "name 'docs-h2g3fiy' (drawn from 'docs') does not match ^team-[a-z-]+$: set name explicitly, "
        "or rename the resource"
    )
    assert check("connector-name-pattern", {"name_prefix": "docs"}, **params) == []  # not drawn yet
    assert check("connector-name-pattern", {"name": UNKNOWN}, **params) == []


def test_description() -> None:
    assert check("connector-description", {"description": "Docs"}) == []
    assert check("connector-description", {"description": UNKNOWN}) == []
    for empty in ({"description": ""}, {"description": "  \t"}, {}):
        assert check("connector-description", empty) == [
            "description is empty: say what the connector is for (users and models read it)"
        ]
    assert check("connector-description", {"description": " Docs "}, minLength=10) == [
        "description has 4 characters, fewer than 10: say what the connector is for (users and models read it)"
    ]


# -- stack rules ---------------------------------------------------------------------------------------------------


def view(resource: str, **props: Any) -> ConnectorView:
    return declared_view(resource, props, urn=f"urn:pulumi:dev::p::Connector::{resource}")


def test_names_unique_names_every_resource_of_a_clash() -> None:
    views = [
        view("a", name="docs"),
        view("b", name="docs"),
        view("c", name="tickets"),
        view("d", name_prefix="docs"),
        view("e", name=UNKNOWN),
        view("f", name="docs-h2g3fiy", name_prefix="d"),
    ]
    found = check_stack("connector-names-unique", views)
    assert found == [
        (
            "connector name 'docs' is declared by 2 resources of this stack (a, b): give each connector its own name",
            f"urn:pulumi:dev::p::Connector::{r}",
        )
        for r in ("a", "b")
    ]
    native = declared_view("n", {"name": "docs"}, urn="urn:n", type_=NATIVE_TYPE)
    assert len(check_stack("connector-names-unique", [view("a", name="docs"), native])) == 2


def test_shared_org_limit() -> None:
    views = [
        view("a", name="a", visibility="shared_org"),
        view("b", name="b", visibility="shared_org"),
        view("c", visibility="shared_workspace"),
        view("d", visibility=UNKNOWN),
    ]
    assert check_stack("connector-shared-org-limit", views, maxSharedOrg=2) == []
    assert check_stack("connector-shared-org-limit", views) == [
        (
            "2 connectors of this stack are shared_org (a, b), at most 1 allowed: lower the visibility of 1 of "
            "them, or raise maxSharedOrg",
            None,
        )
    ]


def test_one_server_one_tool_policy() -> None:
    same = [
        view("a", server="https://MCP.example.com:443/mcp", tool_pins={"s": PIN}, tool_drift="block"),
        view("b", server="https://mcp.example.com/mcp", tool_pins={"s": PIN}, tool_drift="block"),
        view("c", server="https://other.example.com/mcp"),
    ]
    assert check_stack("connector-server-tool-policy", same) == []
    found = check_stack("connector-server-tool-policy", [*same, view("e", server="https://mcp.example.com/mcp")])
    assert [urn for _, urn in found] == [f"urn:pulumi:dev::p::Connector::{r}" for r in ("a", "b", "e")]
    assert found[0][0] == (
        "3 connectors register https://mcp.example.com/mcp with different tool policies (a: 1 pinned tool, tool_drift "
        "block; b: 1 pinned tool, tool_drift block; e: no pins, no tool_drift): give them the same tool_pins and "
        "tool_drift, or register the server once"
    )
    credentials = [
        view("c", server="https://u:pw@other.example.com/mcp?k=secret"),
        view("d", server="https://u:pw@other.example.com/mcp?k=secret", tool_drift="warn"),
    ]
    ((message, _), _) = check_stack("connector-server-tool-policy", credentials)
    assert "https://other.example.com/mcp?…" in message and "pw" not in message and "secret" not in message
    unknown = [same[0], view("u", server="https://mcp.example.com/mcp", tool_pins=UNKNOWN)]
    assert check_stack("connector-server-tool-policy", unknown) == []


def test_shown_url_drops_what_may_hold_a_secret() -> None:
    assert shown_url("https://user:pw@Host.example.com:8443/mcp?token=t#f") == "https://host.example.com:8443/mcp?…"
    assert shown_url("not a url") == "(not a URL)"
    assert shown_url("http://[::1]:9/mcp") == "http://[::1]:9/mcp"


def test_live_connectors_go_through_the_live_rules() -> None:
    live = live_view(
        {"name": "stray", "description": "", "server": "http://mcp.example.com", "visibility": "shared_org"}
    )
    found = {r.id: r.check(live, defaults(r.id)) for r in RULES if r.live}
    assert {k for k, v in found.items() if v} == {
        "connector-server-https",
        "connector-visibility",
        "connector-description",
    }
