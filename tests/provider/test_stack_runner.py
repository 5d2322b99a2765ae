"""Layer 3: whole programs through the stack runner (set_mocks + the real gRPC servicer + the local server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from provider_helpers import REPO, SERVER_URL

from pulumi_mistral.testing.controls import Controls
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

TYPE = "pulumi-python:dynamic/connector:Connector"


def make_program(spec: dict[str, dict[str, Any]]) -> Callable[[], None]:
    """A program declaring one Connector per entry of ``spec`` (mutated between runs by the tests)."""

    def program() -> None:
        import pulumi

        from pulumi_mistral import Connector

        for res_name, kwargs in spec.items():
            c = Connector(res_name, **kwargs)
            pulumi.export(f"{res_name}_id", c.connector_id)
            pulumi.export(f"{res_name}_name", c.name)
            pulumi.export(f"{res_name}_headers", c.headers)
            pulumi.export(f"{res_name}_tools", c.tool_names)

    return program


def _ops(steps: list[Any]) -> list[tuple[str, str]]:
    return [(s.op, s.name) for s in steps]


def test_type_token_and_registration(stack_config) -> None:
    spec = {"c1": {"name": "tok", "description": "d", "server": SERVER_URL}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        stack.up()
        (urn,) = stack.state()
        assert f"::{TYPE}::c1" in urn
        assert stack.state()[urn]["inputs"]["__provider"]
        stack.destroy()


def test_program_lifecycle(stack_config, controls: Controls, mistral_client) -> None:
    spec = {"docs": {"description": "Docs", "server": SERVER_URL, "headers": {"X-Key": "hush-life"}}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        first = stack.up()
        assert _ops(first.steps) == [("create", "docs")]
        assert first.outputs["docs_name"].startswith("docs-")
        assert "docs_headers" in first.secret_outputs and first.outputs["docs_tools"] == []
        assert mistral_client.get(first.outputs["docs_id"]).header_names == ["X-Key"]

        controls.clear_requests()
        calls_before = len(stack.provider_calls)
        second = stack.up()
        assert _ops(second.steps) == [("same", "docs")]
        assert controls.calls() == []  # a no-op makes no HTTP request at all
        assert "Create" not in stack.provider_calls[calls_before:]
        assert "Update" not in stack.provider_calls[calls_before:]
        assert second.outputs["docs_id"] == first.outputs["docs_id"]

        assert not stack.preview(expect_no_changes=True).changes
        assert stack.refresh().drift == {}
        assert not stack.preview(expect_no_changes=True).changes  # refresh introduced no false drift

        steps = stack.destroy()
        assert _ops(steps) == [("delete", "docs")]
        assert list(mistral_client.iter_connectors()) == []


def test_update_patches_only_changed_fields(stack_config, controls: Controls) -> None:
    spec = {"c": {"name": "upd", "description": "v1", "server": SERVER_URL, "connection_config": {"n": 1}}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        ident = stack.up().outputs["c_id"]
        spec["c"]["description"] = "v2"
        assert _ops(stack.preview().steps) == [("update", "c")]
        controls.clear_requests()
        result = stack.up()
        assert [s.op for s in result.steps] == ["update"]
        assert controls.calls() == [f"PATCH /v1/connectors/{ident}"]
        stack.destroy()


def test_replace_explicit_name_deletes_first(stack_config, controls: Controls, mistral_client) -> None:
    spec = {"c": {"name": "fixed", "description": "d", "server": SERVER_URL, "visibility": "private"}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        old_id = stack.up().outputs["c_id"]
        spec["c"]["visibility"] = "shared_workspace"
        controls.clear_requests()
        result = stack.up()
        assert result.steps[0].op == "replace" and result.steps[0].detail[0] == "delete-before-replace"
        calls = controls.calls()
        assert calls.index(f"DELETE /v1/connectors/{old_id}") < calls.index("POST /v1/connectors")
        live = list(mistral_client.iter_connectors())
        assert [(c.name, str(c.visibility)) for c in live] == [("fixed", "shared_workspace")]
        stack.destroy()


def test_replace_auto_name_creates_first(stack_config, controls: Controls, mistral_client) -> None:
    spec = {"c": {"description": "d", "server": SERVER_URL, "visibility": "private"}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        first = stack.up().outputs
        spec["c"]["visibility"] = "shared_workspace"
        controls.clear_requests()
        result = stack.up()
        assert result.steps[0].detail[0] == "create-before-delete"
        calls = controls.calls()
        assert calls.index("POST /v1/connectors") < calls.index(f"DELETE /v1/connectors/{first['c_id']}")
        assert result.outputs["c_name"] != first["c_name"] and result.outputs["c_name"].startswith("c-")
        assert len(list(mistral_client.iter_connectors())) == 1
        stack.destroy()


def test_refresh_reports_drift_and_gone(stack_config, mistral_client) -> None:
    spec = {"a": {"description": "a", "server": SERVER_URL}, "b": {"description": "b", "server": SERVER_URL}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        out = stack.up().outputs
        mistral_client.update(out["a_id"], description="edited out of band")
        mistral_client.delete(out["b_id"])
        result = stack.refresh()
        assert list(result.drift.values()) == [["description"]]
        assert len(result.gone) == 1 and result.gone[0].endswith("::b")
        # The next up puts the declared state back and recreates the deleted one.
        steps = stack.up().steps
        assert sorted(_ops(steps)) == [("create", "b"), ("update", "a")]
        assert mistral_client.get(out["a_id"]).description == "a"
        stack.destroy()


def test_resource_removed_from_program_is_deleted(stack_config, mistral_client) -> None:
    spec = {"a": {"description": "a", "server": SERVER_URL}, "b": {"description": "b", "server": SERVER_URL}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        stack.up()
        del spec["b"]
        assert ("delete", "b") in _ops(stack.preview().steps)
        assert ("delete", "b") in _ops(stack.up().steps)
        assert [c.name[:2] for c in mistral_client.iter_connectors()] == ["a-"]
        stack.destroy()


def test_check_failures_stop_the_run_without_requests(stack_config, controls: Controls) -> None:
    spec = {
        "bad": {
            "name": "bad name",
            "description": "d",
            "server": "ftp://x",
            "visibility": "everyone",
            "headers": {"X-K": "hush-\nbad"},
        }
    }
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        controls.clear_requests()
        with pytest.raises(StackRunError) as info:
            stack.up()
        message = str(info.value)
        for prop in ("name", "server", "visibility", "headers.X-K"):
            assert f"property {prop} has a problem" in message
        assert "hush-" not in message
        assert controls.calls() == []
        assert stack.state() == {}


def test_preview_with_unknown_input(stack_config, controls: Controls) -> None:
    def program() -> None:
        from pulumi_mistral import Connector

        first = Connector("first", description="first", server=SERVER_URL)
        # Unknown during a preview of a new stack: the first connector's id does not exist yet.
        Connector("second", description=first.connector_id.apply(lambda i: f"after {i}"), server=SERVER_URL)

    with StackRunner(program, project="t", config=stack_config, in_process=True) as stack:
        controls.clear_requests()
        preview = stack.preview()
        assert _ops(preview.steps) == [("create", "first"), ("create", "second")]
        assert controls.calls() == []
        stack.up()
        assert not stack.preview().changes
        stack.destroy()


def test_conflict_error_reaches_the_user(stack_config, mistral_client) -> None:
    mistral_client.create(name="clash", description="theirs", server=SERVER_URL)
    spec = {"c": {"name": "clash", "description": "ours", "server": SERVER_URL, "headers": {"X": "hush-409"}}}
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        with pytest.raises(StackRunError) as info:
            stack.up()
        assert "adopt=True" in str(info.value) and "hush-409" not in str(info.value)
        spec["c"]["adopt"] = True
        assert _ops(stack.up().steps) == [("create", "c")]
        assert mistral_client.get("clash").description == "ours"
        stack.destroy()


def test_two_resources_with_one_name_are_told_to_rename_one(stack_config, mistral_client) -> None:
    spec = {
        "a": {"name": "same", "description": "one", "server": SERVER_URL},
        "b": {"name": "same", "description": "one", "server": SERVER_URL},
    }  # identical: not "recovered"
    with StackRunner(make_program(spec), project="t", config=stack_config, in_process=True) as stack:
        with pytest.raises(StackRunError) as info:
            stack.up()
        message = str(info.value)
        assert "two resources of this stack declare name='same'" in message and "rename one" in message, message
        assert [c.name for c in mistral_client.iter_connectors()] == ["same"]
        stack.destroy()


def test_quickstart_through_subprocess_runner(stack_config, mistral_client) -> None:
    config = {**stack_config, "quickstart:mcpUrl": "http://127.0.0.1:9/mcp"}
    with StackRunner(REPO / "examples" / "quickstart", config=config) as stack:
        result = stack.up()
        assert sorted(s.op for s in result.steps) == ["create", "create"]
        outputs = result.outputs
        assert {"tools_connector_id", "docs_connector_id", "tools_tool_names", "docs_tool_names"} <= set(outputs)
        assert mistral_client.get(outputs["tools_connector_id"]).server == "http://127.0.0.1:9/mcp"
        assert stack.refresh().drift == {}
        assert stack.provider_logs() == ""  # stopped after each operation
        assert len(stack.destroy()) == 2
    assert list(mistral_client.iter_connectors()) == []


@pytest.mark.parametrize("in_process", [False, True], ids=["subprocess", "in-process"])
def test_the_next_up_works_after_a_failed_run(stack_config, mistral_client, in_process: bool) -> None:
    import gc
    import warnings

    mode = {"fail": "raise"}

    def program() -> None:
        from pulumi_mistral import Connector

        Connector("c", name="recovers", description="" if mode["fail"] == "check" else "d", server=SERVER_URL)
        if mode["fail"] == "raise":
            raise RuntimeError("the program broke")

    with (
        warnings.catch_warnings(record=True) as caught,
        StackRunner(program, project="t", config=stack_config, in_process=in_process) as stack,
    ):
        warnings.simplefilter("always")
        for fail, expected in (
            ("raise", None),
            ("ok", [("create", "c")]),
            ("check", None),
            ("raise", None),
            ("ok", [("same", "c")]),
        ):
            mode["fail"] = fail
            if expected is None:
                with pytest.raises(StackRunError) as info:
                    stack.up()
                assert "Event loop is closed" not in str(info.value)
            else:
                assert _ops(stack.up().steps) == expected
            gc.collect()  # a coroutine left unawaited would warn here
        assert [c.name for c in mistral_client.iter_connectors()] == ["recovers"]
        stack.destroy()
    texts = [str(w.message) for w in caught]
    assert not [t for t in texts if "never awaited" in t or "Event loop is closed" in t or "unclosed event loop" in t]
