"""What only the native door has, through the real engine: import, reads by id and name, explicit providers, names
that the preview and the plan keep, the engine's autonaming, one-line errors, no API write in a preview, calls served
at once, and its generated SDK.

The scenarios both doors share (drift, replacement order, check failures, tool pins, parallelism) run through both
in test_lifecycle.py, test_engine_behaviour.py and test_tool_pins.py.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine_doors import NATIVE, PROJECTS, pip_install_target

from pulumi_mistral import pins_for
from pulumi_mistral.cli.pins import live_tools
from pulumi_mistral.core import fingerprint
from pulumi_mistral.plugin import sdkgen
from pulumi_mistral.testing.pulumi_cli import EXIT_EXPECTED_NO_CHANGES, CliStack

REPO = Path(__file__).resolve().parents[2]
CONNECTOR = NATIVE.connector_type
NOT_FOUND = "connector 'does-not-exist' not found in this workspace"


def native_many(make_stack: Any, **config: Any) -> CliStack:
    return make_stack(NATIVE.project("many"), config={f"many:{k}": v for k, v in config.items()})


def writes(api: Any) -> list[tuple[str, str]]:
    """The API's write requests since the last clear: (method, path)."""
    return [(r["method"], r["path"]) for r in api.controls().requests(api_only=True) if r["method"] != "GET"]


def made_in_the_console(
    api: Any, server: str = "https://mcp.example.com/mcp", oauth: bool = True
) -> tuple[Any, list[str]]:
    """A connector made outside any stack, each secret property holding a canary value; (connector, canaries)."""
    header, token, client_secret = (f"canary-{kind}-{secrets.token_hex(6)}" for kind in ("header", "token", "oauth"))
    with api.client() as client:
        auth = {"auth_data": {"client_id": "console-client", "client_secret": client_secret}} if oauth else {}
        made = client.create(
            name="console-made",
            description="Made in the console",
            server=server,
            headers={"X-Api-Key": header},
            visibility="private",
            **auth,
        )
        client.update(made.id, connection_secrets={"token": token}, connection_config={"region": "eu"})
    return made, [header, token, *([client_secret] if oauth else [])]


def one_line_errors(output: str, text: str) -> list[str]:
    """The lines of ``output`` that hold ``text``: each must be a whole error, with nothing after it."""
    lines = [line for line in output.splitlines() if text in line]
    assert lines, output
    assert "Traceback" not in output and 'File "' not in output, output
    return lines


# -- import ----------------------------------------------------------------------------------------------------------


def test_pulumi_import_prints_code_without_secrets_and_a_missing_id_records_nothing(make_stack, api) -> None:
    made, canaries = made_in_the_console(api)
    stack = native_many(make_stack, count=0)  # a program that declares no connector, never deployed
    api.controls().clear_requests()

    ghost = stack.run("import", CONNECTOR, "ghost", "does-not-exist", "--yes", check=False)
    assert ghost.returncode != 0
    for line in one_line_errors(ghost.output, NOT_FOUND):
        assert line.rstrip().endswith("and the API key's workspace"), line  # the whole message, on one line
    assert NATIVE.connectors(stack) == []  # no ghost recorded

    single = stack.run("import", CONNECTOR, "console", made.id, "--yes", "--protect=false")
    assert "import pulumi_mistral_native as mistral" in single.stdout, single.output  # installed with us
    assert 'console = mistral.Connector("console",' in single.stdout and 'name="console-made"' in single.stdout
    assert "visibility=mistral.ResourceVisibility.PRIVATE" in single.stdout
    (imported,) = NATIVE.connectors(stack)
    assert imported["id"] == made.id
    # The inputs (what the code is printed from) hold no secret property; the outputs hold them encrypted.
    assert not {"headers", "authData", "connectionSecrets"} & set(imported["inputs"]), imported["inputs"]
    for key in ("headers", "authData", "connectionSecrets"):
        assert "ciphertext" in json.dumps(imported["outputs"][key]), key
    stack.run("state", "delete", imported["urn"], "--yes")

    spec = stack.project_dir / "import.json"
    spec.write_text(json.dumps({"resources": [{"type": CONNECTOR, "name": "from-file", "id": made.id}]}))
    from_file = stack.run("import", "--file", str(spec), "--yes", "--protect=false")
    assert 'from_file = mistral.Connector("from-file",' in from_file.stdout, from_file.output
    assert [r["id"] for r in NATIVE.connectors(stack)] == [made.id]

    # The printed code as the program: every property it prints matches; the secret ones it leaves out would be
    # cleared by the next update (the preview shows them removed), so they must be added back from secrets. The
    # import recorded the connector under the unversioned default provider; the program's is default_0_1_0.
    (stack.project_dir / "__main__.py").write_text(from_file.stdout[from_file.stdout.index("import pulumi\n") :])
    pasted = stack.preview("--diff", "--expect-no-changes", check=False)
    assert pasted.returncode == EXIT_EXPECTED_NO_CHANGES, pasted.output
    resource_diff = pasted.stdout.split("--outputs:--")[0]  # the stack outputs ids and names go: not connectors
    assert re.findall(r"^\s+([-+~]) (\w+)\s*: ", resource_diff, re.MULTILINE) == [
        ("-", "authData"),
        ("-", "connectionSecrets"),
        ("-", "headers"),
    ], pasted.stdout
    assert re.search(r"\[provider: \S+::default::\S+ => \S+::default_0_1_0::", pasted.stdout), pasted.stdout

    yaml_stack = make_stack(PROJECTS / "native-yaml", api_key=api.api_key)
    in_yaml = yaml_stack.run("import", CONNECTOR, "console", made.id, "--yes", "--protect=false")
    assert "type: mistral:Connector" in in_yaml.stdout and "name: console-made" in in_yaml.stdout, in_yaml.output

    for result in (ghost, single, from_file, pasted, in_yaml):
        for value in canaries:
            assert value not in result.output
    for value in canaries:
        assert value not in json.dumps(stack.export()) and value not in json.dumps(yaml_stack.export())
    assert writes(api) == []  # an import only reads
    yaml_stack.run("state", "delete", NATIVE.connectors(yaml_stack)[0]["urn"], "--yes")  # one owner for teardown


# -- reads: Connector.get and the two functions ---------------------------------------------------------------------


def test_connector_get_and_the_functions_read_a_connector_the_stack_does_not_manage(make_stack, api, demo) -> None:
    made, canaries = made_in_the_console(api, server=demo.url, oauth=False)
    header, token = canaries
    stack = make_stack(PROJECTS / "native-read", config={"read:id": made.id, "read:name": "console-made"})
    api.controls().clear_requests()
    stack.up()
    outputs = stack.outputs()
    assert outputs["got_name"] == "console-made" and outputs["got_description"] == "Made in the console"
    # Secret properties stay secret: Connector.get marks them; an output-form function answer that holds a secret
    # is secret as a whole (the SDK marks the whole result, its id included).
    for key in ("got_headers", "found_id", "found_headers", "found_connection_secrets", "found_connection_config"):
        assert outputs[key] == "[secret]", (key, outputs[key])
    shown = json.loads(stack.run("stack", "output", "--json", "--show-secrets").stdout)
    assert shown["found_id"] == made.id and shown["found_connection_config"] == {"region": "eu"}
    assert shown["got_headers"] == shown["found_headers"] == {"X-Api-Key": header}
    assert shown["found_connection_secrets"] == {"token": token}
    # The plain (non-output) form drops secretness, as every plain invoke of the Python SDK does: the header comes
    # back as a plain value, so the stack output and the state hold it in clear text. Use get_connector_output.
    assert outputs["plain_headers"] == {"X-Api-Key": header}

    # getConnectorTools: the fingerprints pins_for computes, and the set fingerprint the lifecycle records.
    with api.client() as client:
        pins = pins_for(made.id, client=client)
        expected = fingerprint.tool_outputs(live_tools(client, made.id))
    assert {t["name"]: t["fingerprint"] for t in outputs["tools"]} == pins
    assert sorted(outputs["tool_names"]) == sorted(pins) and len(pins) >= 3
    assert outputs["tools_fingerprint"] == expected["tools_fingerprint"]

    exported = stack.export()
    (got,) = NATIVE.connectors(stack)
    assert got["external"] is True and got["id"] == made.id
    assert "ciphertext" in json.dumps(got["outputs"]["headers"])
    root = next(r for r in exported["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack")
    assert root["outputs"].pop("plain_headers") == {"X-Api-Key": header}  # the plain form's leak, and only it
    for value in canaries:
        assert value not in json.dumps(exported)
    assert stack.preview("--expect-no-changes").returncode == 0
    assert writes(api) == []
    stack.destroy()
    assert [c.id for c in api.connectors()] == [made.id]  # a read connector is not the stack's to delete


# -- explicit providers ------------------------------------------------------------------------------------------------


def test_one_stack_two_workspaces_through_an_explicit_provider(make_stack, api) -> None:
    secret_keys = ("mistral:apiKey", "workspaces:secondKey")
    wrong = f"wrong-second-key-{secrets.token_hex(8)}"
    stack = make_stack(PROJECTS / "native-workspaces", config={"workspaces:secondKey": wrong}, secret_keys=secret_keys)
    failed = stack.up(check=False)
    assert failed.returncode != 0
    refused = "error: the API key from the apiKey of provider 'second-workspace' was refused by"
    (line, *_) = one_line_errors(failed.output, refused)
    assert "fix: give the apiKey of provider 'second-workspace' the right key" in line, line
    assert wrong not in failed.output and api.api_key not in failed.output
    assert [c.name for c in api.connectors(api.api_keys[1])] == []

    stack.set_config("workspaces:secondKey", api.api_keys[1], secret=True)
    stack.up()
    first, second = stack.outputs()["first_id"], stack.outputs()["second_id"]
    assert [(c.name, c.id) for c in api.connectors()] == [("in-first", first)]
    assert [(c.name, c.id) for c in api.connectors(api.api_keys[1])] == [("in-second", second)]
    assert stack.preview("--expect-no-changes").returncode == 0
    exported = json.dumps(stack.export())
    assert api.api_keys[0] not in exported and api.api_keys[1] not in exported
    providers = {r["urn"].rsplit("::", 1)[1]: r for r in stack.resources(NATIVE.provider_type)}
    assert "ciphertext" in json.dumps(providers["second-workspace"]["inputs"]["apiKey"])
    stack.destroy()
    assert api.connectors() == [] and api.connectors(api.api_keys[1]) == []


# -- previews, plans and names -----------------------------------------------------------------------------------------


def engine_calls(log: str, method: str) -> list[str]:
    """The connector calls of ``method`` the engine logged at -v=7 (``Provider[...].Create(<urn>) executing``)."""
    return [
        line
        for line in log.splitlines()
        if f"].{method}(" in line and f"::{CONNECTOR}::" in line and "executing" in line
    ]


def test_a_preview_sends_no_api_write_and_up_under_its_plan_creates_the_name_it_showed(make_stack, api) -> None:
    stack = native_many(make_stack)
    api.controls().clear_requests()
    unplanned = stack.preview("--diff")  # every run draws a new seed: a preview alone does not promise the name
    preview = stack.run("preview", "--save-plan", "plan.json", "--diff", "--logtostderr", "-v=7")
    assert "+ 3 to create" in preview.stdout, preview.stdout
    assert len(engine_calls(preview.stderr, "Create")) == 2  # called in the preview (preview=True)...
    assert api.controls().requests(api_only=True) == []  # ...and nothing reached the API
    pattern = r'Connector::many-1\]\n(?:.*\n)*?\s+name\s+: "(many-1-[a-z0-9]{7})"'
    shown, other = re.search(pattern, preview.stdout), re.search(pattern, unplanned.stdout)
    assert shown and other, preview.stdout + unplanned.stdout
    assert other.group(1) != shown.group(1)

    stack.run("up", "--yes", "--skip-preview", "--plan", "plan.json")
    assert stack.outputs()["names"] == ["many-0", shown.group(1)]  # the plan carries the seed: the same name

    api.controls().clear_requests()
    changed = stack.run(
        "preview", "--diff", "--config", "many:server=https://mcp2.example.com/mcp", "--logtostderr", "-v=7"
    )
    assert "~ 2 to update" in changed.stdout, changed.stdout
    assert len(engine_calls(changed.stderr, "Update")) == 2
    assert writes(api) == []


def test_the_engines_autonaming_config_reaches_check(make_stack, api) -> None:
    """`pulumi:autonaming` (read by the CLI, passed in CheckRequest.autonaming because Configure says the plugin
    supports it): `verbatim` names a connector after its resource, and its replacement too (the old one goes first);
    a pattern names a replacement; an existing connector keeps its name, also under `enforce` (whose proposal
    changes with every deployment's seed); `disabled` fails the check of every unnamed connector."""
    stack = native_many(make_stack)
    stack.run("config", "set", "--path", "pulumi:autonaming.mode", "verbatim")
    stack.up()
    assert stack.outputs()["names"] == ["many-0", "many-1"]  # a given name wins; the other one is verbatim
    old_named, old_auto = stack.outputs()["ids"]
    api.controls().clear_requests()
    up = stack.up("--config", "many:auto_visibility=shared_workspace")
    new_named, new_auto = stack.outputs()["ids"]
    assert stack.outputs()["names"] == ["many-0", "many-1"] and new_named == old_named and new_auto != old_auto
    # The name has no random part: the replacement takes the same name, so the old one goes first.
    assert writes(api) == [("DELETE", f"/v1/connectors/{old_auto}"), ("POST", "/v1/connectors")]
    assert "(the old one is deleted first: the name stays and names are unique)" in up.stdout, up.stdout

    stack.run("config", "rm", "pulumi:autonaming")
    stack.run("config", "set", "--path", "pulumi:autonaming.pattern", "--", "${name}-${hex(4)}")
    api.controls().clear_requests()
    up = stack.up("--config", "many:auto_visibility=private")
    auto = stack.outputs()["names"][1]
    assert re.fullmatch(r"many-1-[0-9a-f]{4}", auto), auto  # the replacement is named by the pattern
    assert writes(api) == [("POST", "/v1/connectors"), ("DELETE", f"/v1/connectors/{new_auto}")]
    assert "(the stack's autonaming config names the new one: it is created first when" in up.stdout, up.stdout
    assert stack.preview("--expect-no-changes").returncode == 0
    stack.run("config", "set", "--path", "pulumi:autonaming.enforce", "true")
    assert stack.preview("--expect-no-changes", "--diff").returncode == 0  # no rename on every run
    assert {c.name for c in api.connectors()} == {"many-0", auto}

    stack.run("config", "rm", "pulumi:autonaming")
    stack.run("config", "set", "--path", "pulumi:autonaming.mode", "disabled")
    api.controls().clear_requests()
    refused = stack.preview(check=False)
    assert refused.returncode != 0
    # A connector the program leaves unnamed fails, an existing one too (the engine then stops the program).
    lines = one_line_errors(refused.output, "is required: autonaming is disabled for this stack; fix: set name")
    assert all("resource 'many-1'" in line for line in lines), lines
    assert "resource 'many-0'" not in refused.output, refused.output  # it has a name
    assert api.controls().requests(api_only=True) == []


# -- errors and concurrency --------------------------------------------------------------------------------------------


def test_errors_are_one_line_each_with_no_traceback(make_stack, api) -> None:
    stack = native_many(make_stack, count=3)
    stack.set_config("mistral:apiKey", "wrong-key-0123456789", secret=True)
    up = stack.up(check=False)
    assert up.returncode != 0
    lines = one_line_errors(up.output, "error: the API key from stack config mistral:apiKey was refused by")
    assert len(lines) >= 3 and "pulumi config set --secret mistral:apiKey" in lines[0], up.output
    assert "wrong-key-0123456789" not in up.output and len(up.output.splitlines()) < 50, up.output

    stack.run("config", "rm", "mistral:apiKey")
    stack.env["MISTRAL_API_KEY"] = "wrong-key-from-the-environment"
    up = stack.up(check=False)
    assert up.returncode != 0
    one_line_errors(up.output, "the API key from the MISTRAL_API_KEY environment variable was refused")
    assert "wrong-key-from-the-environment" not in up.output
    stack.env["MISTRAL_API_KEY"] = api.api_key  # so the fixture's destroy can clean up

    stack.set_config("mistral:timeout", "abc")
    bad = stack.preview(check=False)
    assert bad.returncode != 0
    (line, *_) = one_line_errors(bad.output, "mistral:timeout (or MISTRAL_TIMEOUT) must be a positive number")
    assert "pulumi:providers:mistral resource 'default_0_1_0' has a problem" in line, line
    stack.run("config", "rm", "mistral:timeout")

    with socket.socket() as free:  # a port nothing listens on: the API server is down
        free.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{free.getsockname()[1]}"
    stack.set_config("mistral:serverUrl", down)
    stack.set_config("mistral:maxAttempts", "1")
    up = stack.up(check=False)
    assert up.returncode != 0
    lines = one_line_errors(up.output, "failed without a usable response")
    assert "check the server URL and network" in lines[0] and len(up.output.splitlines()) < 50, up.output
    stack.set_config("mistral:serverUrl", api.url)


def overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def test_the_plugin_serves_at_least_4_calls_at_once(make_stack, api) -> None:
    stack = native_many(make_stack, count=8)
    api.controls().set_latency(1000)  # every API request answers a second later
    try:
        api.controls().clear_requests()
        stack.up()
        posts = [r for r in api.controls().requests(api_only=True) if r["method"] == "POST"]
    finally:
        api.controls().set_latency(0)
    assert len(posts) == 8
    ends = [datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in posts]
    intervals = [
        ((end - timedelta(milliseconds=r["duration_ms"])).timestamp(), end.timestamp())
        for end, r in zip(ends, posts, strict=True)
    ]
    span = max(e for _, e in intervals) - min(s for s, _ in intervals)
    assert overlap(intervals) >= 4, intervals
    assert span < 4.0, span  # 8 s one at a time; about 2 s four at a time


# -- the generated SDK -----------------------------------------------------------------------------------------------


def test_the_committed_sdk_is_what_the_generator_writes_from_schema_json(pulumi_bin) -> None:
    generated = sdkgen.generate(REPO / "schema.json", pulumi_bin)
    committed = {
        p.relative_to(sdkgen.NATIVE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(sdkgen.NATIVE.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(committed) == sorted(generated), "run `python -m pulumi_mistral.plugin.sdkgen`"
    stale = [name for name in generated if committed[name] != generated[name]]
    assert stale == [], f"{stale} differ from schema.json: run `python -m pulumi_mistral.plugin.sdkgen`"


def gen_sdk(pulumi_bin: Path, schema: Path, out: Path) -> Path:
    """``pulumi package gen-sdk SCHEMA --language python`` into ``out``; the SDK's directory (``out/python``)."""
    env = {
        "PULUMI_HOME": str(out / "home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": str(pulumi_bin.parent),
    }
    done = subprocess.run(
        [str(pulumi_bin), "package", "gen-sdk", str(schema), "--language", "python", "--out", str(out / "sdk")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "sdk" / "python"


def install_and_import(sdk: Path, site: Path, module: str) -> list[str]:
    """Install ``sdk`` into ``site`` (``pip install --target``) and import ``module`` with ``site`` first on the path:
    what the probe prints (whether it came from ``site``, a few of its names, its version), or the error's last
    line."""
    pip_install_target(sdk, site)
    probe = (
        f"import sys; sys.path.insert(0, sys.argv[1]); import {module} as m; "
        "print(m.__file__.startswith(sys.argv[1]), m.Connector.__name__, m.Provider.__name__, "
        "m.get_connector_output.__name__, m.ResourceVisibility.PRIVATE.value, m._utilities.get_version())"
    )
    shown = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(site)], capture_output=True, text=True, timeout=60, check=False
    )
    return shown.stdout.split() if shown.returncode == 0 else shown.stderr.strip().splitlines()[-1:]


def test_gen_sdk_of_the_repository_schema_writes_an_sdk_that_installs_and_imports(pulumi_bin, tmp_path) -> None:
    """The schema's Python packageName is the plain `pulumi_mistral_native`: generated on its own, the SDK installs
    and imports under that name, beside `pulumi_mistral` (which embeds the same SDK as `pulumi_mistral.native`)."""
    sdk = gen_sdk(pulumi_bin, REPO / "schema.json", tmp_path / "repo")
    written = sdk / "pulumi_mistral_native"
    assert {"__init__.py", "connector.py", "provider.py", "get_connector.py", "get_connector_tools.py"} <= {
        p.name for p in written.iterdir()
    }
    assert json.loads((written / "pulumi-plugin.json").read_text())["name"] == "mistral"
    shown = install_and_import(sdk, tmp_path / "repo-site", "pulumi_mistral_native")
    version = json.loads((REPO / "schema.json").read_text())["version"]
    assert shown == ["True", "Connector", "Provider", "get_connector_output", "private", version], shown
