"""The Automation API (`pulumi.automation`) over the same CLI and workspace: summaries instead of parsed text."""

from __future__ import annotations

from typing import Any


def test_automation_api_up_preview_refresh_destroy(make_stack, api, demo) -> None:
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": demo.url})
    auto = stack.automation()
    lines: list[str] = []
    up = auto.up(on_output=lines.append)
    assert up.summary.result == "succeeded"
    assert up.summary.resource_changes == {"create": 3}
    assert up.outputs["tools_connector_id"].value in {c.id for c in api.connectors()}
    assert any("quickstart-tools" in line for line in lines)

    preview = auto.preview()
    assert preview.change_summary == {"same": 3}
    with api.client() as client:
        client.update(up.outputs["docs_connector_id"].value, description="edited in the console")
    refresh = auto.refresh(on_output=lines.append)
    assert refresh.summary.resource_changes == {"same": 2, "update": 1}
    assert any("description differs from what this stack recorded" in line for line in lines), lines[-20:]

    destroyed: Any = auto.destroy()
    assert destroyed.summary.resource_changes == {"delete": 3}
    assert api.connectors() == []
