"""The HTTP layer: the only httpx importer (settings checks, requests, retries, error mapping).

It holds no state beyond one ``httpx.Client``: no caches, no cookies, no per-request bookkeeping.
httpx itself is imported when the first client is built, not at import time: processes that import the
client but never call the API (the CLI, a provider doing only ``check``/``diff``) skip its ~90 ms import.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode, urlsplit

from pulumi_mistral._version import __version__
from pulumi_mistral.core.hosts import is_loopback
from pulumi_mistral.errors import (
    APIError,
    ConfigurationError,
    MistralError,
    TimeoutError,
    TransportError,
    clean_request_id,
    error_from_response,
    redact,
)

if TYPE_CHECKING:  # pragma: no cover
    import ssl

    import httpx
    from httpx._client import UseClientDefault

DEFAULT_SERVER_URL = "https://api.mistral.ai"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_MAX_RETRY_TIME = 60.0
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 8.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"pulumi-mistral/{__version__}"
ENV_API_KEY = "MISTRAL_API_KEY"
ENV_SERVER_URL = "MISTRAL_SERVER_URL"

QueryValue = str | int | float | bool | None


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried; ``random``, ``sleep`` and ``clock`` are injectable for tests.

    Example::

        RetryPolicy(max_attempts=3, backoff_base=0.01, random=lambda: 1.0)
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_retry_time: float = DEFAULT_MAX_RETRY_TIME
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    random: Callable[[], float] = field(default=random.random, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


def _httpx() -> Any:
    """The httpx module, imported on first use (cached by the import system)."""
    import httpx

    return httpx


# ---- retry policy: small pure functions ------------------------------------------------------------------------


def should_retry(status_code: int | None, *, idempotent: bool, reached_server: bool) -> bool:
    """Whether a failed attempt may be sent again.

    ``status_code`` is None for transport errors. Idempotent requests retry on 429/5xx and any transport
    error; non-idempotent ones (create, call_tool) only on 429 or when the request never reached the server.
    """
    if status_code is None:
        return idempotent or not reached_server
    if status_code == 429:
        return True
    return idempotent and status_code in RETRY_STATUSES


def backoff_delay(
    attempt: int,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    cap: float = DEFAULT_BACKOFF_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1))) for attempt >= 1."""
    factor: int = 2 ** max(0, attempt - 1)  # typeshed types int ** int as Any (a negative power is a float)
    ceiling = min(cap, base * factor)
    return max(0.0, rand() * ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # only for HTTP-dates: keeps the client's import light

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


# ---- settings ----------------------------------------------------------------------------------------------------


def resolve_server_url(server_url: str | None) -> str:
    """The base URL: argument, else MISTRAL_SERVER_URL, else the public API; trailing '/' stripped."""
    raw = server_url if server_url else os.environ.get(ENV_SERVER_URL) or DEFAULT_SERVER_URL
    raw = raw.strip().rstrip("/")
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(f"bad server URL {raw!r}: it must look like https://host[:port][/prefix]") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(f"bad server URL {raw!r}: it must look like https://host[:port][/prefix]")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"bad server URL {raw!r}: remove the query string or fragment")
    if parts.username or parts.password:
        raise ConfigurationError("bad server URL: credentials in the URL are not allowed; use MISTRAL_API_KEY")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"refusing to send the API key over plain http to {host!r}: use https, or a loopback host "
            "(127.0.0.1, ::1, localhost) for a local server"
        )
    return raw


def _bare_key(key: str) -> str:
    """The key without a leading ``Bearer `` (any case), as the server compares it."""
    return key[7:] if key[:7].lower() == "bearer " else key


def resolve_api_key(api_key: str | None) -> str:
    """The key: argument, else MISTRAL_API_KEY; it must be a printable ASCII token."""
    key = api_key if api_key else os.environ.get(ENV_API_KEY)
    if not key or not key.strip():
        raise ConfigurationError(f"no Mistral API key: pass api_key=... or set the {ENV_API_KEY} environment variable")
    key = key.strip()
    body = _bare_key(key)
    if not body or any(not (0x21 <= ord(ch) <= 0x7E) for ch in body):
        raise ConfigurationError(
            f"the API key (from api_key or {ENV_API_KEY}) contains spaces, control or non-ASCII characters"
        )
    return key


def authorization_header(api_key: str) -> str:
    """``Bearer <key>``, without a second prefix when the key already has one."""
    return api_key if api_key[:7].lower() == "bearer " else f"Bearer {api_key}"


def _tls_verification(server_url: str) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for ``server_url``: the default (the CA bundle) for https.

    A plain-http server URL (allowed only for loopback hosts) never makes a TLS connection: every request goes
    to it and no redirect is followed. Loading the CA bundle would cost about 50 ms for nothing, so it gets
    a context that trusts no certificate at all: were a TLS connection ever attempted through it, it would
    fail verification, never go unverified.
    """
    if server_url.startswith("https:"):
        return True
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname, with no trusted CA


def build_url(path: str, params: Iterable[tuple[str, QueryValue]] = ()) -> str:
    """``path?query`` with None values omitted and booleans as true/false, in the given order."""
    pairs = [(k, ("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in params if v is not None]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def encode_json(body: Any) -> bytes:
    """Compact JSON, as the official SDK sends it (bodies are checked for NaN and invalid text before this)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _request_hook(on_request: Callable[[str, str], None]) -> Callable[[httpx.Request], None]:
    def hook(request: httpx.Request) -> None:
        on_request(request.method, request.url.path)

    return hook


# ---- the session -------------------------------------------------------------------------------------------------


class HTTPSession:
    """One httpx.Client plus the settings to send, retry and map errors; no other state.

    Example::

        session = HTTPSession(api_key="sk-...", server_url="http://127.0.0.1:8000")
        data = session.request("GET", "/v1/connectors", operation="list", expected_status=200)
    """

    _client: httpx.Client

    def __init__(
        self,
        *,
        api_key: str | None,
        server_url: str | None,
        timeout: float | None = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self.server_url = resolve_server_url(server_url)
        key = resolve_api_key(api_key)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._secret = (key, _bare_key(key))
        httpx = _httpx()
        self._client = httpx.Client(
            base_url=self.server_url,
            headers={
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                "Authorization": authorization_header(key),
            },
            timeout=httpx.Timeout(timeout),
            verify=_tls_verification(self.server_url),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            # called with (method, path) for every request sent, retries included (drift counts them)
            event_hooks={"request": [_request_hook(on_request)]} if on_request else None,
        )

    def __repr__(self) -> str:
        return f"HTTPSession(server_url={self.server_url!r})"

    def close(self) -> None:
        self._client.close()

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        expected_status: int,
        subject: str | None = None,
        params: Iterable[tuple[str, QueryValue]] = (),
        body: Any = None,
        idempotent: bool = True,
        secrets: Iterable[str] = (),
    ) -> object:
        """Send with retries; return the decoded JSON of an ``expected_status`` response or raise MistralError.

        ``body`` None means no body (and no Content-Type). ``secrets`` are extra values (beyond the API key)
        to redact from any error message.
        """
        content = encode_json(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        url = build_url(path, params)

        def send(timeout: float | UseClientDefault) -> httpx.Response:
            return self._client.request(method, url, content=content, headers=headers, timeout=timeout)

        call = _Call(send, operation, subject, expected_status, idempotent, (*self._secret, *secrets))
        policy = self.policy
        deadline = policy.clock() + policy.max_retry_time
        attempt = 0
        timeout: float | UseClientDefault = _httpx().USE_CLIENT_DEFAULT
        while True:
            attempt += 1
            outcome = self._send_once(call, timeout)
            if not isinstance(outcome, _Failure):
                return self._decode(outcome, call)
            remaining = deadline - policy.clock()
            if not outcome.retry or attempt >= policy.max_attempts or remaining <= 0:
                _give_up(outcome, attempt)
            policy.sleep(min(_wait(outcome, attempt, policy), remaining))
            # A retry never outlives max_retry_time: its timeout is what is left of it (the first attempt has the
            # whole timeout). So a hung server costs about max(timeout, max_retry_time), not both.
            left = deadline - policy.clock()
            if left > 0 and (self.timeout is None or left < self.timeout):
                timeout = left

    def _send_once(self, call: _Call, timeout: float | UseClientDefault) -> httpx.Response | _Failure:
        """One attempt: the response of the expected status, or what failed and whether a retry may help."""
        http_error = _httpx().HTTPError
        try:
            response = call.send(timeout)
        except http_error as exc:
            return _transport_failure(exc, call)
        if response.status_code == call.expected_status:
            return response
        return _status_failure(response, call)

    @staticmethod
    def _decode(response: httpx.Response, call: _Call) -> object:
        """The JSON of a response of the expected status, or APIError (a non-idempotent request has landed)."""
        try:
            data: object = json.loads(response.content)
        except ValueError:
            pass
        else:
            return data
        # raised outside the except block so the decode error (which holds the body) is not chained
        rid = clean_request_id(response.headers.get("x-request-id"))
        raise APIError(
            f"unexpected response to {call.operation} of {call.subject or 'the request'} ({response.status_code}): "
            f"the body is not JSON{f' [request id: {rid}]' if rid else ''}",
            status_code=response.status_code,
            request_id=rid,
            may_have_landed=not call.idempotent,
        )


@dataclass(frozen=True)
class _Call:
    """One request: how an attempt sends it (given its timeout), and what its errors say."""

    send: Callable[[float | UseClientDefault], httpx.Response]
    operation: str
    subject: str | None
    expected_status: int
    idempotent: bool
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: the error to raise, whether a retry may help, the server's hint and the cause."""

    error: MistralError
    retry: bool
    retry_after: float | None = None
    cause: BaseException | None = None


def _transport_failure(exc: httpx.HTTPError, call: _Call) -> _Failure:
    """No usable response: retried when the request is idempotent or certainly never reached the server."""
    httpx = _httpx()
    idempotent = call.idempotent
    # Connect errors and pool timeouts happen before a single byte of the request is sent.
    reached = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    landed = reached and not idempotent
    about = call.subject or "the request"
    # httpx messages carry no headers; redact anyway in case a URL or an echo contains a secret. Redact
    # before flattening and cutting: either could break a secret so it no longer matches, leaving part of it.
    detail = " ".join(redact(str(exc), call.secrets).split())[:200] or type(exc).__name__
    tail = " (it may have been applied: check before repeating it)" if landed else ""
    error: TransportError
    if isinstance(exc, httpx.TimeoutException):
        error = TimeoutError(
            f"{call.operation} of {about} timed out ({type(exc).__name__}): raise timeout= or check the server{tail}",
            may_have_landed=landed,
        )
    else:
        error = TransportError(
            f"{call.operation} of {about} failed without a usable response ({type(exc).__name__}: "
            f"{detail}): check the server URL and network{tail}",
            may_have_landed=landed,
        )
    retry = isinstance(exc, httpx.TransportError) and should_retry(None, idempotent=idempotent, reached_server=reached)
    return _Failure(error, retry, cause=exc)


def _status_failure(response: httpx.Response, call: _Call) -> _Failure:
    """A response of another status than expected, mapped to its error; ``Retry-After`` read."""
    status, idempotent = response.status_code, call.idempotent
    hint = parse_retry_after(response.headers.get("retry-after"))
    error = error_from_response(
        status,
        response.content,
        operation=call.operation,
        subject=call.subject,
        expected_status=call.expected_status,
        request_id=response.headers.get("x-request-id"),
        retry_after=hint,
        # a 4xx means the server refused the request; anything else (5xx, odd 2xx/3xx) may have applied it
        may_have_landed=not idempotent and not 400 <= status <= 499,
        secrets=call.secrets,
    )
    # a retry cannot sign anyone in
    retry = should_retry(status, idempotent=idempotent, reached_server=True) and not error.auth_required
    return _Failure(error, retry, retry_after=hint)


def _wait(failure: _Failure, attempt: int, policy: RetryPolicy) -> float:
    """Seconds before the next attempt: the server's ``Retry-After``, else backoff with the policy's jitter."""
    if failure.retry_after is not None:
        return failure.retry_after
    return backoff_delay(attempt, base=policy.backoff_base, cap=policy.backoff_cap, rand=policy.random)


def _give_up(failure: _Failure, attempt: int) -> NoReturn:
    """Raise the failure's error (saying how many attempts were made, if more than one), chained to its cause."""
    error = failure.error
    if attempt > 1:
        error.message = f"{error.message} (after {attempt} attempts)"
        error.args = (error.message,)
    if failure.cause is not None:
        raise error from failure.cause
    raise error


def mapping_secrets(*mappings: object) -> list[str]:
    """String values of secret-bearing request fields (headers, auth_data, connection_secrets) to redact.

    Arguments that are not mappings (UNSET, None) contribute nothing.
    """
    found: list[str] = []
    for mapping in mappings:
        if isinstance(mapping, Mapping):
            found.extend(str(v) for v in mapping.values() if isinstance(v, str | int) and not isinstance(v, bool))
    return found
