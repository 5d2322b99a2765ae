"""iter_connectors follows next_cursor to the end and refuses to loop forever."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from pulumi_mistral.errors import PaginationError


def _pages(cj, reply_cls, pages: dict[str | None, tuple[list[str], str | None]]):
    def answer(req):
        cursor = parse_qs(req.query).get("cursor", [None])[0]
        names, next_cursor = pages[cursor]
        return reply_cls(
            200,
            {"items": [cj(id=n, name=n) for n in names], "pagination": {"page_size": 2, "next_cursor": next_cursor}},
        )

    return answer


def test_iterates_all_pages_in_order(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)})
    names = [c.name for c in client.iter_connectors(page_size=2, active=True)]
    assert names == ["a", "b", "c", "d", "e"]
    assert [r.raw_path for r in server.requests] == [
        "/v1/connectors?active=true&page_size=2",
        "/v1/connectors?active=true&cursor=c1&page_size=2",
        "/v1/connectors?active=true&cursor=c2&page_size=2",
    ]


def test_empty_string_cursor_ends_iteration(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a"], "")})
    assert [c.name for c in client.iter_connectors()] == ["a"]
    assert len(server.requests) == 1


def test_is_lazy(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a", "b"], "c1"), "c1": (["c"], None)})
    iterator = client.iter_connectors(page_size=2)
    assert next(iterator).name == "a"
    assert len(server.requests) == 1


def test_repeated_cursor_raises(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a"], "c1"), "c1": (["b"], "c1")})
    seen = []
    with pytest.raises(PaginationError, match="repeated pagination cursor 'c1'"):
        for c in client.iter_connectors():
            seen.append(c.name)
    assert seen == ["a", "b"]
    assert len(server.requests) == 2


def test_cycle_through_older_cursor_raises(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a"], "c1"), "c1": (["b"], "c2"), "c2": (["c"], "c1")})
    with pytest.raises(PaginationError):
        list(client.iter_connectors())
    assert len(server.requests) == 3


def test_max_pages_bound(server, client, cj, reply_cls):
    server.default = _pages(cj, reply_cls, {None: (["a"], "c1"), "c1": (["b"], "c2"), "c2": (["c"], None)})
    with pytest.raises(PaginationError, match="max_pages=2"):
        list(client.iter_connectors(max_pages=2))
    assert len(server.requests) == 2
    server.requests.clear()
    assert len(list(client.iter_connectors(max_pages=3))) == 3
