"""iter_tools pages through every tool (past 1,000), asks for a fresh list once, and refuses to page forever;
the on_request hook sees every request sent, retries included."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from pulumi_mistral.client.connectors import DEFAULT_MAX_TOOL_PAGES, MAX_PAGE_SIZE
from pulumi_mistral.errors import PaginationError


def _tools(total: int):
    """A server holding ``total`` tools, sliced by page and page_size as the Connectors API does."""

    def answer(req, reply_cls):
        q = parse_qs(req.query)
        page, size = int(q["page"][0]), int(q["page_size"][0])
        names = [f"tool_{i:05d}" for i in range(total)][(page - 1) * size : page * size]
        return reply_cls(200, [{"name": n, "description": "d", "inputSchema": {"type": "object"}} for n in names])

    return answer


def test_pages_past_one_thousand_tools_and_refreshes_only_the_first_page(server, client, reply_cls):
    answer = _tools(2 * MAX_PAGE_SIZE + 5)
    server.default = lambda req: answer(req, reply_cls)
    names = [t.name for t in client.iter_tools("docs")]
    assert names == [f"tool_{i:05d}" for i in range(2 * MAX_PAGE_SIZE + 5)]
    assert [r.raw_path for r in server.requests] == [
        "/v1/connectors/docs/tools?page=1&page_size=1000&refresh=true&pretty=false",
        "/v1/connectors/docs/tools?page=2&page_size=1000&refresh=false&pretty=false",
        "/v1/connectors/docs/tools?page=3&page_size=1000&refresh=false&pretty=false",
    ]


def test_a_full_last_page_costs_one_more_request_that_comes_back_empty(server, client, reply_cls):
    answer = _tools(4)
    server.default = lambda req: answer(req, reply_cls)
    assert len(list(client.iter_tools("docs", page_size=2, refresh=False))) == 4
    assert [parse_qs(r.query)["page"] for r in server.requests] == [["1"], ["2"], ["3"]]
    assert all(parse_qs(r.query)["refresh"] == ["false"] for r in server.requests)


def test_a_server_that_always_answers_a_full_page_is_stopped(server, client, reply_cls):
    server.default = lambda req: reply_cls(200, [{"name": "same", "inputSchema": {}}] * 2)
    with pytest.raises(PaginationError, match="refusing to page further"):
        list(client.iter_tools("docs", page_size=2, max_pages=3))
    assert len(server.requests) == 3
    assert DEFAULT_MAX_TOOL_PAGES * MAX_PAGE_SIZE == 20_000  # the default bound: 20 pages of 1,000


def test_on_request_sees_every_request_sent_retries_included(server, make_client, cj):
    seen: list[tuple[str, str]] = []
    client = make_client(on_request=lambda method, path: seen.append((method, path)))
    server.reply(503, {"detail": "busy"})
    server.reply(200, cj())
    client.get("docs")
    server.reply(200, [])
    client.list_tools("docs")
    get, tools = ("GET", "/v1/connectors/docs"), ("GET", "/v1/connectors/docs/tools")
    assert seen == [get, get, tools]
