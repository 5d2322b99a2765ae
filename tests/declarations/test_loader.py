"""connectors.yaml loader: merged desired state per stack, secret references, every error at file:line:column."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pulumi_mistral.declarations import (
    DeclarationError,
    SecretRef,
    load_declarations,
    overlay_path,
    resolve_secrets,
    secret_references,
)

BASE = """\
version: 1
defaults:
  visibility: private
  connection_config:
    timeout: 30
connectors:
  docs:
    description: Docs search
    server: https://mcp.example.com/mcp
    headers:
      X-Api-Key: {secret: docsApiKey}
    auth_data:
      client_id: my-app
      client_secret: {env: DOCS_CLIENT_SECRET}
  tickets:
    name: ticket-search
    description: Tickets
    server: https://tickets.example.com/mcp
    connection_config:
      region: eu
stacks:
  prod:
    defaults:
      adopt: true
    connectors:
      docs:
        server: https://mcp.prod.example.com/mcp
        headers:
          X-Env: {secret: prodEnvTag}
      tickets: null
"""


def write(tmp_path: Path, text: str, name: str = "connectors.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path, stack: str | None = None) -> list[tuple[int, int, str, str]]:
    with pytest.raises(DeclarationError) as info:
        load_declarations(path, stack)
    return [(i.location.line, i.location.column, i.path, i.reason) for i in info.value.issues]


def test_base_declarations_merge_defaults(tmp_path: Path) -> None:
    decls = load_declarations(write(tmp_path, BASE))
    assert list(decls) == ["docs", "tickets"]
    docs = decls["docs"]
    assert docs["name"] == "docs"  # the resource name
    assert docs["visibility"] == "private"
    assert docs["connection_config"] == {"timeout": 30}
    assert docs["headers"] == {"X-Api-Key": SecretRef("secret", "docsApiKey")}
    assert docs["auth_data"] == {"client_id": "my-app", "client_secret": SecretRef("env", "DOCS_CLIENT_SECRET")}
    # maps merge key by key: the connector's map extends the defaults' map
    assert decls["tickets"]["connection_config"] == {"timeout": 30, "region": "eu"}
    assert decls["tickets"]["name"] == "ticket-search"
    assert "adopt" not in docs


def test_stack_block_overrides(tmp_path: Path) -> None:
    decls = load_declarations(write(tmp_path, BASE), "prod")
    assert list(decls) == ["docs"]  # tickets: null removes it from prod
    docs = decls["docs"]
    assert docs["server"] == "https://mcp.prod.example.com/mcp"
    assert docs["adopt"] is True
    assert docs["headers"] == {
        "X-Api-Key": SecretRef("secret", "docsApiKey"),
        "X-Env": SecretRef("secret", "prodEnvTag"),
    }
    # an unknown stack gets the base declarations
    assert load_declarations(tmp_path / "connectors.yaml", "staging") == load_declarations(tmp_path / "connectors.yaml")


def test_overlay_file_applies_after_the_block(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert overlay_path(path, "prod") == tmp_path / "connectors.prod.yaml"
    write(
        tmp_path,
        """\
        defaults:
          visibility: shared_workspace
        connectors:
          docs:
            server: https://overlay.example.com/mcp
            connection_config: {timeout: null}
          extra:
            description: Only in prod
            server: https://extra.example.com/mcp
        """,
        "connectors.prod.yaml",
    )
    decls = load_declarations(path, "prod")
    assert list(decls) == ["docs", "extra"]
    assert decls["docs"]["server"] == "https://overlay.example.com/mcp"
    assert decls["docs"]["visibility"] == "shared_workspace"
    assert "connection_config" not in decls["docs"]  # null removed the only key; empty map dropped by spec
    assert decls["extra"]["adopt"] is True
    # other stacks do not see the overlay
    assert "extra" not in load_declarations(path, "dev")


def test_explicit_values_beat_stack_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        connectors:
          a: {description: A, server: "https://a.example.com", visibility: shared_org}
        stacks:
          prod:
            defaults: {visibility: private}
        """,
    )
    assert load_declarations(path, "prod")["a"]["visibility"] == "shared_org"


def test_unknown_key_suggests_nearest_with_location(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        connectors:
          docs:
            description: Docs
            serverr: https://mcp.example.com/mcp
        """,
    )
    found = problems(path)
    assert (4, 5, "connectors.docs.serverr", "is not a connector property (did you mean 'server'?)") in found
    # the missing required property is reported at the connector's key
    assert (2, 3, "connectors.docs.server", "is required; fix: set server") in found


def test_all_errors_at_once_with_file_line_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        defaults:
          visibilty: private
        connectors:
          docs:
            description: Docs
            server: ftp://mcp.example.com
            headers:
              X-Api-Key: sk-literal-value
            auth_data:
              client_id: app
              client_secret: {secrett: x}
          "bad name":
            description: ""
            server: https://ok.example.com
        stackz: {}
        """,
    )
    with pytest.raises(DeclarationError) as info:
        load_declarations(path)
    err = info.value
    text = str(err)
    lines = text.splitlines()
    assert lines[0].endswith("has 7 problems:"), text
    where = {i.path: (i.location.line, i.location.column) for i in err.issues}
    assert where["defaults.visibilty"] == (2, 3)
    assert where["connectors.docs.server"] == (6, 13)
    assert where["connectors.docs.headers.X-Api-Key"] == (8, 18)
    assert where["connectors.docs.auth_data.client_secret.secrett"] == (11, 23)
    assert where["connectors.bad name.name"] == (12, 3)  # the name comes from the key
    assert where["connectors.bad name.description"] == (13, 18)
    assert where["stackz"] == (15, 1)
    assert "did you mean 'visibility'" in text and "did you mean 'stacks'" in text
    assert "did you mean 'secret'" in text
    assert "{secret: <config key>}" in text
    # never echo a secret value
    assert "sk-literal-value" not in text and "sk-literal-value" not in err.message
    assert all(str(path) in line for line in lines[1:])
    # the one-line summary (for tools that show exc.message) names the file and the count
    assert "\n" not in err.message and "7 problems" in err.message


def test_errors_in_overlay_files_name_that_file(tmp_path: Path) -> None:
    path = write(tmp_path, "connectors:\n  a: {description: A, server: 'https://a.example.com'}\n")
    overlay = write(tmp_path, "connectors:\n  a:\n    icon_url: not a url\n", "connectors.prod.yaml")
    with pytest.raises(DeclarationError) as info:
        load_declarations(path, "prod")
    (issue,) = info.value.issues
    assert issue.location.file == str(overlay)
    assert (issue.location.line, issue.path) == (3, "connectors.a.icon_url")


def test_errors_in_stack_block_are_reported_for_every_stack(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        connectors:
          a: {description: A, server: "https://a.example.com"}
        stacks:
          prod:
            connectors:
              a: {sever: "https://b.example.com"}
        """,
    )
    assert problems(path, "dev") == [
        (6, 11, "stacks.prod.connectors.a.sever", "is not a connector property (did you mean 'server'?)")
    ]


def test_yaml_syntax_error_and_duplicates(tmp_path: Path) -> None:
    broken = write(tmp_path, "connectors:\n  a: {description: A\n", "broken.yaml")
    ((line, _, _, reason),) = problems(broken)
    assert "not valid YAML" in reason and line >= 2
    dup = write(
        tmp_path,
        """\
        connectors:
          a: {description: A, server: "https://a.example.com"}
          a: {description: B, server: "https://b.example.com"}
        """,
        "dup.yaml",
    )
    assert problems(dup) == [(3, 3, "connectors.a", "is written twice (first at line 2); fix: keep one")]


def test_missing_file_and_wrong_shapes(tmp_path: Path) -> None:
    ((_, _, _, reason),) = problems(tmp_path / "nope.yaml")
    assert "cannot read the file" in reason
    assert problems(write(tmp_path, "- a\n- b\n", "list.yaml"))[0][3].startswith("must be a map")
    assert problems(write(tmp_path, "defaults: {}\n", "noconn.yaml"))[0][3].startswith("has no `connectors:` map")
    found = problems(write(tmp_path, "connectors:\n  a: 3\n", "scalar.yaml"))
    assert [f[2:] for f in found] == [("connectors.a", "must be a map of connector properties (got number)")]


def test_duplicate_connector_names_and_default_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        defaults:
          name: shared
        connectors:
          a: {description: A, server: "https://a.example.com", name: same}
          b: {description: B, server: "https://b.example.com", name: same}
        """,
    )
    found = {p: (line, reason) for line, _, p, reason in problems(path)}
    assert found["defaults.name"][0] == 2
    assert found["connectors.b.name"][0] == 5 and "also the name of connectors.a" in found["connectors.b.name"][1]


def test_yaml_merge_keys_and_anchors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        common: &common
          description: Shared
          server: https://shared.example.com/mcp
        connectors:
          a:
            <<: *common
          b:
            <<: *common
            description: Own
        """,
    )
    # `common` is not a known top-level key: anchors belong under defaults or a connector
    assert problems(path)[0][2] == "common"
    path = write(
        tmp_path,
        """\
        connectors:
          a: &a
            description: Shared
            server: https://shared.example.com/mcp
          b:
            <<: *a
            description: Own
        """,
        "anchors.yaml",
    )
    decls = load_declarations(path)
    assert decls["b"] == {"description": "Own", "server": "https://shared.example.com/mcp", "name": "b"}


def test_secret_references_and_resolution(tmp_path: Path) -> None:
    decls = load_declarations(write(tmp_path, BASE), "prod")
    refs = secret_references(decls)
    assert [(r, p, str(ref)) for r, p, ref in refs] == [
        ("docs", "headers.X-Api-Key", "{secret: docsApiKey}"),
        ("docs", "headers.X-Env", "{secret: prodEnvTag}"),
        ("docs", "auth_data.client_secret", "{env: DOCS_CLIENT_SECRET}"),
    ]
    assert refs[0][2].location is not None and refs[0][2].location.line == 11
    resolved = resolve_secrets(decls["docs"], lambda ref: f"<{ref.key}>")
    assert resolved["headers"] == {"X-Api-Key": "<docsApiKey>", "X-Env": "<prodEnvTag>"}
    assert isinstance(decls["docs"]["headers"]["X-Api-Key"], SecretRef)  # not mutated


def test_references_only_in_secret_positions_are_interpreted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        connectors:
          a:
            description: A
            server: {secret: url}
            connection_config: {secret: not-a-ref}
            connection_secrets: {token: {env: TOKEN}, other: 5}
            auth_data: {client_id: {env: CLIENT_ID}, client_secret: {secret: cs}}
        """,
    )
    found = {p: reason for _, _, p, reason in problems(path)}
    assert found["connectors.a.server"].startswith("must be a string")
    assert "connection_config" not in " ".join(found)  # plain JSON data, may contain any key
    assert found["connectors.a.connection_secrets.other"].startswith("is a secret but its value is a number")
    assert "auth_data" not in " ".join(found)


def test_loader_does_not_import_pulumi_or_server_stacks() -> None:
    code = (
        "import sys, pulumi_mistral.declarations as d; "
        "bad = [m for m in ('pulumi', 'fastapi', 'starlette', 'uvicorn', 'mcp', 'httpx') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_large_files_load_in_linear_time(tmp_path: Path) -> None:
    """An export of a big workspace is one file: loading 1000 connectors stays well under a second per 100
    (tracking where each value was written used to scan every mark per value: minutes for this file)."""
    import time

    lines = ["defaults:", "  adopt: true", "connectors:"]
    for i in range(1000):
        lines += [
            f"  c{i}:",
            f"    description: Connector {i}",
            f"    server: https://mcp{i}.example.com/mcp",
            f"    headers: {{X-Api-Key: {{secret: c{i}Key}}, X-Team: {{secret: c{i}Team}}}}",
            "    connection_config: {region: eu, retries: 3, tags: [a, b], nested: {deep: [1, 2, {x: y}]}}",
        ]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    decls = load_declarations(path)
    elapsed = time.perf_counter() - started
    assert len(decls) == 1000 and decls["c999"]["connection_config"]["nested"] == {"deep": [1, 2, {"x": "y"}]}
    assert elapsed < 15, f"{elapsed:.1f} s for 1000 connectors"
