"""What careless and hostile clients send, generated; and a runner that sends it where it can hurt.

Two targets, each fed the values JSON libraries will not produce on their own, so every HTTP body is raw
bytes (``NaN``, ``Infinity``, lone ``\\ud800`` escapes, duplicate keys, deep nesting, oversize and
wrongly typed bodies, wrong content types):

* every write route of the local server (create, update, call_tool, and the test controls' faults), over
  one raw HTTP/1.1 keep-alive connection (h11 over a socket: the connection is ours to watch). After each
  case the same connection lists the workspace and reads back a canary connector, secrets included;
* the provider's ``check`` through the real ``pulumi.dynamic`` gRPC servicer (``testing.engine``), and, for
  what protobuf cannot carry (a lone surrogate is not UTF-8), the same rules on the declarations path.

Shared with ``bench/reliability.py``, which prints the counts for docs/reliability.md.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import h11

from pulumi_mistral.core import spec
from pulumi_mistral.core.headers import MAX_HEADERS
from pulumi_mistral.core.json_values import MAX_JSON_DEPTH

SECRET = "hostile-canary-" + secrets.token_hex(8)  # in every secret position of every hostile body
CANARY_SECRETS = {
    "header": "canary-header-" + secrets.token_hex(8),
    "client": "canary-client-" + secrets.token_hex(8),
    "connection": "canary-connection-" + secrets.token_hex(8),
}
MARK = "__HOSTILE__"
ONE_MIB = 1_048_576


# ---- cases ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile request. ``refused``: it must be answered 4xx (otherwise only "no 5xx" is required)."""

    id: str
    route: str
    kind: str
    body: bytes | tuple[bytes, ...]  # a tuple is sent chunked, one chunk per item
    content_type: str | None = "application/json"
    refused: bool = True


def _bases(name: str) -> dict[str, dict[str, Any]]:
    """A valid body per route; hostile cases are mutations of these."""
    return {
        "create": {
            "name": name,
            "description": "hostile",
            "server": "https://mcp.example.com/mcp",
            "icon_url": "https://mcp.example.com/i.png",
            "visibility": "private",
            "system_prompt": "p",
            "headers": {"X-Key": SECRET},
            "auth_data": {"client_id": "app", "client_secret": SECRET},
        },
        "update": {
            "description": "hostile",
            "system_prompt": "p",
            "headers": {"X-Key": SECRET},
            "connection_config": {"region": "eu", "nested": {"n": 1, "l": [1, "a"]}},
            "connection_secrets": {"token": SECRET},
        },
        "call_tool": {"arguments": {"text": "hi", "nested": {"n": [1, 2]}}},
        "faults": {
            "rules": [{"action": "status", "status": 503, "path": "^/never-matches$", "probability": 0.5, "seed": 1}]
        },
    }


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path


def _objects(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _objects(item, (*path, key))


def _replace(body: Any, path: tuple[Any, ...], raw: str) -> bytes:
    """``body`` as JSON with the value at ``path`` replaced by the raw JSON text ``raw``."""
    doc = json.loads(json.dumps(body))
    if not path:
        return raw.encode("utf-8", "surrogatepass")
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = MARK
    return json.dumps(doc).replace(json.dumps(MARK), raw).encode("utf-8", "surrogatepass")


def _rename_key(body: Any, path: tuple[Any, ...], raw_key: str) -> bytes:
    """``body`` with a key added to the object at ``path`` whose name is the raw JSON string ``raw_key``."""
    doc = json.loads(json.dumps(body))
    target = doc
    for part in path:
        target = target[part]
    target[MARK] = "v"
    return json.dumps(doc).replace(json.dumps(MARK), raw_key).encode("utf-8", "surrogatepass")


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path)) or "body"


NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999")
SURROGATES = ('"\\ud800"', '"\\udfff"', '"a\\udc00b"', '"\\ud83d"')  # the last: half of an emoji's pair
SECRET_LEAVES = (("headers", "X-Key"), ("auth_data", "client_secret"), ("connection_secrets", "token"))


def _wrong_types(path: tuple[Any, ...]) -> tuple[str, ...]:
    """Values of the wrong type for a leaf; in a secret position they carry the secret (it must not echo)."""
    inner = json.dumps(SECRET if path in SECRET_LEAVES else "plain")
    return ("123", "true", "null", "[]", "{}", '"text"', f"[{inner}]", f'{{"v": {inner}}}')


FORBIDDEN_HEADERS = (
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Mcp-Session-Id",
    "mcp-protocol-version",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Proxy-Connection",
)


def _deep(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


# One case before it is numbered: route, kind, label, body and Case's keyword arguments.
_Draft = tuple[str, str, str, "bytes | tuple[bytes, ...]", dict[str, Any]]


def _draft(route: str, kind: str, label: str, body: bytes | tuple[bytes, ...], **kw: Any) -> _Draft:
    return route, kind, label, body, kw


def _value_drafts(route: str, base: dict[str, Any]) -> Iterator[_Draft]:
    """Each leaf replaced by what JSON cannot carry or by another type; each object key made hostile."""
    for path in list(_leaves(base)):
        for token in NON_FINITE:
            yield _draft(route, "non-finite", f"{_dotted(path)}={token}", _replace(base, path, token))
        for token in SURROGATES:
            yield _draft(route, "surrogate", f"{_dotted(path)}", _replace(base, path, token))
        for token in _wrong_types(path):
            # a changed type can be valid (a connection_config value may be anything): no 5xx is the rule
            yield _draft(
                route, "wrong-type", f"{_dotted(path)}={token[:12]}", _replace(base, path, token), refused=False
            )
    for path in _objects(base):
        yield _draft(route, "surrogate", f"key-in-{_dotted(path)}", _rename_key(base, path, '"k\\ud800"'))
        yield _draft(
            route, "duplicate-key", _dotted(path), _rename_key(base, path, json.dumps(next(iter(_at(base, path)), "x")))
        )


def _nesting_drafts(route: str, base: dict[str, Any]) -> Iterator[_Draft]:
    for depth in (MAX_JSON_DEPTH + 1, 1_000, 100_000):
        yield _draft(route, "deep-nesting", f"body-{depth}", _deep(depth).encode())
    for path in [p for p in _objects(base) if p]:
        for depth in (spec.MAX_NESTING + 1, MAX_JSON_DEPTH):
            # call_tool's arguments have no nesting rule of their own, only the body's depth limit
            refused = route != "call_tool" or len(path) == 1 or depth + len(path) >= MAX_JSON_DEPTH
            yield _draft(
                route, "deep-nesting", f"{_dotted(path)}-{depth}", _replace(base, path, _deep(depth)), refused=refused
            )


def _body_drafts(route: str, base: dict[str, Any]) -> Iterator[_Draft]:
    """Whole bodies: too large, not an object, another content type or encoding, cut short."""
    big = json.dumps({**base, "pad": "x" * ONE_MIB}).encode()
    yield _draft(route, "oversize", "content-length", big)
    yield _draft(route, "oversize", "chunked", tuple(big[i : i + 65_536] for i in range(0, len(big), 65_536)))
    yield _draft(route, "wrong-type", "body-array", b"[]")
    yield _draft(route, "wrong-type", "body-string", b'"' + SECRET.encode() + b'"')
    yield _draft(route, "wrong-type", "body-null", b"null")
    yield _draft(route, "wrong-type", "body-number", b"NaN")
    valid = json.dumps(base).encode()
    for ctype in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        None,
    ):
        yield _draft(route, "content-type", str(ctype).split(";")[0], valid, content_type=ctype)
    yield _draft(
        route,
        "content-type",
        "json-utf16",
        json.dumps(base).encode("utf-16"),
        content_type="application/json; charset=utf-16",
    )
    yield _draft(route, "content-type", "json-bom", b"\xef\xbb\xbf" + valid)
    yield _draft(route, "content-type", "invalid-utf8", valid[:12] + b"\xff\xfe" + valid[12:])
    yield _draft(route, "content-type", "truncated", valid[: len(valid) // 2])
    yield _draft(route, "content-type", "empty", b"")
    # a valid body as +json is parsed as JSON (and accepted, or a 409 for a create whose name is taken)
    yield _draft(
        route, "content-type", "merge-patch-json", valid, content_type="application/merge-patch+json", refused=False
    )


def _header_drafts(route: str, base: dict[str, Any]) -> Iterator[_Draft]:
    for name in FORBIDDEN_HEADERS:
        body = json.dumps({**base, "headers": {name: SECRET}}).encode()
        yield _draft(route, "header-rule", f"forbidden-{name}", body)
    for a, b in (("X-Key", "x-key"), ("Authorization", "AUTHORIZATION"), ("X-Api-Key", "x-API-key")):
        yield _draft(
            route,
            "header-rule",
            f"case-duplicate-{b}",
            json.dumps({**base, "headers": {a: SECRET, b: SECRET}}).encode(),
        )
    too_many = {f"X-H{i}": SECRET for i in range(MAX_HEADERS + 1)}
    yield _draft(route, "header-rule", "too-many", json.dumps({**base, "headers": too_many}).encode())


def _limit_drafts() -> Iterator[_Draft]:
    update = _bases("hostile-update")["update"]
    keys = {f"k{i}": i for i in range(spec.MAX_MAP_KEYS + 1)}
    for prop in ("connection_config", "connection_secrets"):
        yield _draft("update", "limits", f"{prop}-keys", json.dumps({**update, prop: keys}).encode())
    yield _draft("update", "limits", "nested-keys", json.dumps({**update, "connection_config": {"n": keys}}).encode())


def _drafts() -> Iterator[_Draft]:
    for route in ("create", "update", "call_tool", "faults"):
        base = _bases(f"hostile-{route}")[route]
        yield from _value_drafts(route, base)
        yield from _nesting_drafts(route, base)
        yield from _body_drafts(route, base)
    for route in ("create", "update"):
        yield from _header_drafts(route, _bases(f"hostile-{route}")[route])
    yield from _limit_drafts()


def cases() -> list[Case]:
    """Every hostile case, in a stable order with stable ids."""
    return [
        Case(f"{route}-{kind}-{label}-{n}", route, kind, body, **kw)
        for n, (route, kind, label, body, kw) in enumerate(_drafts())
    ]


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


# ---- a keep-alive connection we can watch -------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    dropped: bool = False  # the server closed (or announced closing) the connection

    def json(self) -> Any:
        return json.loads(self.body)


class KeepAlive:
    """One HTTP/1.1 connection (h11 over a socket); ``dropped`` once the server closes it."""

    def __init__(self, host: str, port: int, api_key: str, timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.api_key = api_key
        self.sock = socket.create_connection(self.address, timeout=timeout)
        self.local_port = self.sock.getsockname()[1]
        self.conn = h11.Connection(h11.CLIENT)
        self.requests = 0

    def close(self) -> None:
        self.sock.close()

    def request(
        self, method: str, target: str, body: bytes | tuple[bytes, ...] = b"", content_type: str | None = None
    ) -> Answer:
        headers = [("Host", f"{self.address[0]}:{self.address[1]}"), ("Authorization", f"Bearer {self.api_key}")]
        if content_type:
            headers.append(("Content-Type", content_type))
        chunks = body if isinstance(body, tuple) else (body,)
        if isinstance(body, tuple):
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(body))))
        self.requests += 1
        try:
            data = self.conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
            for chunk in chunks:
                if chunk:
                    data += self.conn.send(h11.Data(data=chunk)) or b""
            data += self.conn.send(h11.EndOfMessage()) or b""
            self.sock.sendall(data)
            return self._read()
        except (OSError, h11.ProtocolError) as exc:
            return Answer(0, {}, f"{type(exc).__name__}: {exc}".encode(), dropped=True)

    def _read(self) -> Answer:
        status, headers, body = 0, {}, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                chunk = self.sock.recv(65_536)
                self.conn.receive_data(chunk)
                if not chunk and self.conn.their_state is not h11.DONE:
                    return Answer(status, headers, body, dropped=True)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                return Answer(status, headers, body, dropped=True)
        dropped = self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE
        if not dropped:
            self.conn.start_next_cycle()
        return Answer(status, headers, body, dropped=dropped)


# ---- running the server cases -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    status: int
    dropped: bool
    problems: list[str] = field(default_factory=list)


class LogCapture(logging.Handler):
    """Every log record of the process while the cases run (the server runs in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(self.format(record))
        except Exception:  # a record that cannot be formatted says nothing about secrets
            self.texts.append(str(record.msg))


def seed_workspace(client: Any, demo_url: str) -> dict[str, str]:
    """The canary (secrets to read back after every case) and the targets of update and call_tool."""
    canary = client.create(
        name="canary",
        description="canary",
        server="https://mcp.example.com/mcp",
        headers={"X-Canary": CANARY_SECRETS["header"]},
        auth_data={"client_id": "canary-app", "client_secret": CANARY_SECRETS["client"]},
    )
    client.update(
        canary.id,
        connection_config={"rate": 1.5, "tags": ["a"]},
        connection_secrets={"token": CANARY_SECRETS["connection"]},
    )
    target = client.create(name="update-target", description="t", server="https://mcp.example.com/mcp")
    tools = client.create(name="tool-target", description="t", server=demo_url)
    return {"canary": canary.id, "update": target.id, "call_tool": tools.id}


def _paths(ids: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        "create": ("POST", "/v1/connectors"),
        "update": ("PATCH", f"/v1/connectors/{ids['update']}"),
        "call_tool": ("POST", f"/v1/connectors/{ids['call_tool']}/tools/echo/call"),
        "faults": ("POST", "/_local/faults"),
    }


def _secrets_in(text: str, api_key: str) -> list[str]:
    return [
        name
        for name, value in (
            ("api key", api_key),
            ("hostile body secret", SECRET),
            *((f"canary {k}", v) for k, v in CANARY_SECRETS.items()),
        )
        if value in text
    ]


def _read_back(conn: KeepAlive, ids: dict[str, str]) -> list[str]:
    """The workspace still lists, and the canary reads back exactly, secrets included (same connection)."""
    problems = []
    listing = conn.request("GET", "/v1/connectors?page_size=1000&fetch_connection_secrets=true")
    canary = conn.request("GET", f"/v1/connectors/{ids['canary']}?fetch_connection_secrets=true")
    state = conn.request("GET", "/_local/state")
    for what, answer in (("list", listing), ("get canary", canary), ("state", state)):
        if answer.dropped or answer.status != 200:
            problems.append(f"{what}: status {answer.status}, dropped={answer.dropped}")
    if problems:
        return problems
    try:
        listed = {c["name"]: c for c in json.loads(listing.body, parse_constant=_no_constant)["items"]}
        got = json.loads(canary.body, parse_constant=_no_constant)
    except ValueError as exc:
        return [f"read back is not strict JSON: {exc}"]
    for where, connector in (("list", listed.get("canary")), ("get", got)):
        if connector is None:
            problems.append(f"{where}: canary missing")
            continue
        expected = (
            {"X-Canary": CANARY_SECRETS["header"]},
            CANARY_SECRETS["client"],
            {"token": CANARY_SECRETS["connection"]},
            {"rate": 1.5, "tags": ["a"]},
        )
        actual = (
            connector.get("headers"),
            (connector.get("auth_data") or {}).get("client_secret"),
            connector.get("connection_secrets"),
            connector.get("connection_config"),
        )
        if actual != expected:
            problems.append(f"{where}: canary does not read back as written")
    return problems


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


def _answer_problems(case: Case, answer: Any, server: Any) -> list[str]:
    """What is wrong with one answer to a hostile case: a 5xx, no refusal, a badly shaped error, a leak."""
    problems = []
    if answer.status >= 500 or answer.status == 0:
        problems.append(f"status {answer.status}")
    if case.refused and not 400 <= answer.status <= 499:
        problems.append(f"not refused: status {answer.status}")
    if answer.status == 413 and str(server.settings.max_body_bytes) not in answer.body.decode():
        problems.append("413 without the limit")
    if answer.status == 422:
        detail = json.loads(answer.body).get("detail")
        if not (isinstance(detail, list) and detail and all(set(d) == {"loc", "msg", "type"} for d in detail)):
            problems.append("422 not in FastAPI's {detail: [{loc, msg, type}]} shape")
    leaked = _secrets_in(answer.body.decode("utf-8", "replace") + json.dumps(answer.headers), server.api_key)
    return problems + [f"answer holds the {what}" for what in leaked]


def run_server_cases(server: Any, demo_url: str, selected: Iterable[Case] | None = None) -> list[Outcome]:
    """Send every case (each followed by the read-back) over one keep-alive connection to ``server``."""
    client = server.client()
    try:
        ids = seed_workspace(client, demo_url)
    finally:
        client.close()
    paths = _paths(ids)
    capture = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    # Capture DEBUG records without printing them: the handlers already there keep their threshold.
    quieted = [(h, h.level) for h in root.handlers]
    for handler, level in quieted:
        handler.setLevel(max(level, old_level))
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    host, port = server.url.removeprefix("http://").split(":")
    conn = KeepAlive(host, int(port), server.api_key)
    outcomes: list[Outcome] = []
    try:
        for case in selected if selected is not None else cases():
            method, target = paths[case.route]
            answer = conn.request(method, target, case.body, case.content_type)
            outcome = Outcome(case, answer.status, answer.dropped)
            if answer.dropped:
                outcome.problems.append("the server dropped the connection")
                conn.close()
                conn = KeepAlive(host, int(port), server.api_key)
            outcome.problems += _answer_problems(case, answer, server)
            before = conn.local_port
            outcome.problems += _read_back(conn, ids)
            if conn.local_port != before:
                outcome.problems.append("read back needed a new connection")
            if case.route == "faults":
                conn.request("DELETE", "/_local/faults")  # a valid body installed a rule that matches nothing
            outcomes.append(outcome)
    finally:
        conn.close()
        root.removeHandler(capture)
        root.setLevel(old_level)
        for handler, level in quieted:
            handler.setLevel(level)
    leaked_logs = _secrets_in("\n".join(capture.texts), server.api_key)
    if leaked_logs and outcomes:
        outcomes[-1].problems += [f"a log record holds the {what}" for what in leaked_logs]
    return outcomes


# ---- the provider's check -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckCase:
    """Inputs for check, and the property its failure must name (a prefix: ``headers`` names ``headers.Host``)."""

    id: str
    kind: str
    inputs: dict[str, Any]
    prop: str


URN = "urn:pulumi:dev::hostile::pulumi-python:dynamic/connector:Connector::c"
GOOD: dict[str, Any] = {"name": "hostile", "description": "hostile", "server": "https://mcp.example.com/mcp"}


def check_cases() -> list[CheckCase]:
    """Hostile inputs the engine can carry (numbers are doubles: NaN and infinities included)."""
    nan, inf = float("nan"), float("inf")
    out: list[CheckCase] = []
    fields: dict[str, Callable[[Any], dict[str, Any]]] = {
        "name": lambda v: {"name": v},
        "description": lambda v: {"description": v},
        "server": lambda v: {"server": v},
        "icon_url": lambda v: {"icon_url": v},
        "visibility": lambda v: {"visibility": v},
        "system_prompt": lambda v: {"system_prompt": v},
        "headers": lambda v: {"headers": {"X-Key": v}},
        "auth_data": lambda v: {"auth_data": {"client_id": v, "client_secret": SECRET}},
        "connection_config": lambda v: {"connection_config": {"a": {"b": [v]}}},
        "connection_secrets": lambda v: {"connection_secrets": {"token": v}},
        "tool_pins": lambda v: {"tool_pins": {"echo": v}},
        "tool_drift": lambda v: {"tool_drift": v},
        "adopt": lambda v: {"adopt": v},
    }
    for prop, make in fields.items():
        for label, value in (("nan", nan), ("inf", inf), ("-inf", -inf)):
            out.append(CheckCase(f"{prop}-{label}", "non-finite", make(value), prop))
    for prop in (
        "name",
        "description",
        "server",
        "icon_url",
        "visibility",
        "system_prompt",
        "headers",
        "auth_data",
        "tool_pins",
        "tool_drift",
    ):
        for label, value in (("list", [SECRET]), ("map", {"v": SECRET}), ("number", 7.0)):
            out.append(CheckCase(f"{prop}-{label}", "wrong-type", fields[prop](value), prop))
    for prop in ("connection_config", "connection_secrets"):
        for depth in (spec.MAX_NESTING + 1, MAX_JSON_DEPTH + 1):
            deep: Any = "x"
            for _ in range(depth):
                deep = {"d": deep}
            out.append(CheckCase(f"{prop}-depth-{depth}", "deep-nesting", {prop: deep}, prop))
        out.append(
            CheckCase(f"{prop}-keys", "limits", {prop: {f"k{i}": "v" for i in range(spec.MAX_MAP_KEYS + 1)}}, prop)
        )
    for name in FORBIDDEN_HEADERS:
        out.append(CheckCase(f"header-{name}", "header-rule", {"headers": {name: SECRET}}, f"headers.{name}"))
    # which of the two is named depends on map order, which protobuf does not keep
    out.append(
        CheckCase("header-case-duplicate", "header-rule", {"headers": {"X-Key": SECRET, "x-key": SECRET}}, "headers")
    )
    out.append(
        CheckCase(
            "headers-too-many",
            "header-rule",
            {"headers": {f"X-H{i}": SECRET for i in range(MAX_HEADERS + 1)}},
            "headers",
        )
    )
    return out


def surrogate_cases() -> list[CheckCase]:
    """Lone surrogates in every string position: protobuf (UTF-8) cannot carry them to the servicer, so these
    go through the same rules on the declarations path (``spec.validate_inputs``)."""
    bad = "x\ud800y"
    return [
        CheckCase(f"{prop}-surrogate", "surrogate", inputs, prop)
        for prop, inputs in (
            ("description", {"description": bad}),
            ("system_prompt", {"system_prompt": bad}),
            ("headers", {"headers": {"X-Key": bad}}),
            ("auth_data", {"auth_data": {"client_id": bad, "client_secret": "s"}}),
            ("connection_config", {"connection_config": {"a": [bad]}}),
            ("connection_config", {"connection_config": {bad: 1}}),
            ("connection_secrets", {"connection_secrets": {"token": bad}}),
            ("name", {"name": bad}),
            ("server", {"server": "https://mcp.example.com/" + bad}),
            ("icon_url", {"icon_url": "https://x.example/" + bad}),
            ("tool_drift", {"tool_drift": bad}),
            ("visibility", {"visibility": bad}),
        )
    ]


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts for docs/reliability.md's table."""
    statuses = Counter(o.status for o in outcomes)
    return {
        "cases": len(outcomes),
        "kinds": dict(Counter(o.case.kind for o in outcomes)),
        "routes": len({o.case.route for o in outcomes}),
        "refused_4xx": sum(1 for o in outcomes if 400 <= o.status <= 499),
        "accepted_2xx": sum(1 for o in outcomes if 200 <= o.status <= 299),
        "status_5xx": sum(1 for o in outcomes if o.status >= 500 or o.status == 0),
        "statuses": dict(sorted(statuses.items())),
        "dropped": sum(1 for o in outcomes if o.dropped),
        "failed": sum(1 for o in outcomes if o.problems),
        "read_backs": len(outcomes),
    }
