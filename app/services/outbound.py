"""The one way out: every outbound HTTP request (URL import, later webhooks, ML backends, storage).

The guard sits where the socket is opened: the host is resolved here, every address is checked
against the policy, and the connection goes to a checked address. So a redirect, a second DNS
answer (rebinding) or a proxy from the environment cannot lead anywhere the check did not see.
Bodies are streamed with a size cap and a deadline, and error messages never echo what the far
side said.

Errors (all QuorumError, so the API answers 4xx):

    BlockedAddress         403  a non-public address (app.domain.outbound)
    OutboundError          400  the fetch failed
     ├── OutboundTimeout   400  no answer in time
     └── BadStatus         400  the far side answered with an error status
    ResponseTooLarge       413  the body is over the size limit
"""

import logging
import socket
import typing
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpcore
import httpx

from app.config import Settings
from app.domain.errors import Invalid, TooLarge
from app.domain.outbound import IPAddress, OutboundPolicy, check_scheme, parse_address

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
log = logging.getLogger("quorum.outbound")


class OutboundError(Invalid):
    """An outbound request failed; the message says why without quoting the far side."""


class OutboundTimeout(OutboundError):
    """The far side did not answer in time."""


class BadStatus(OutboundError):
    """The far side answered with a status that is not a success."""


class ResponseTooLarge(TooLarge):
    """The response body is larger than allowed."""


@dataclass(frozen=True)
class Limits:
    """What one outbound request may do: where it may go, how long and how much it may take."""

    policy: OutboundPolicy
    timeout: float
    total_timeout: float
    max_bytes: int
    max_redirects: int = MAX_REDIRECTS


def limits_from(settings: Settings) -> Limits:
    return Limits(
        policy=OutboundPolicy.from_settings(settings.outbound_allow_private, settings.outbound_allowlist),
        timeout=settings.outbound_timeout,
        total_timeout=settings.outbound_total_timeout,
        max_bytes=settings.outbound_max_bytes,
    )


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses the policy allows, after resolving the host itself."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        self._policy.check(host, addresses)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound requests do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal is its own answer)."""
    if (literal := parse_address(host)) is not None:
        return [literal]
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}") from exc
    found = [parse_address(info[4][0]) for info in infos]
    return list(dict.fromkeys(a for a in found if a is not None))


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose every connection passes the guard.

    httpx has no public way to give httpcore a network backend, so the pool it builds is replaced;
    the type check makes an httpx upgrade that moves it fail loudly rather than drop the guard.
    """

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx changed its transport; the outbound guard cannot be installed")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(policy),
        )


def client(limits: Limits) -> httpx.AsyncClient:
    """The client factory for every outbound call: guarded, no environment proxies, no auto-redirects."""
    return httpx.AsyncClient(
        transport=_GuardedTransport(limits.policy),
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "Quorum"},
    )


@dataclass(frozen=True)
class Download:
    url: str  # after redirects
    content_type: str
    size: int


def check_url(url: str) -> httpx.URL:
    """An absolute http(s) URL with a host, or a 400 saying what is wrong."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Invalid(f"'{url}' is not a valid URL: {exc}", field="url") from None
    check_scheme(parsed.scheme or "(none)")
    if not parsed.host:
        raise Invalid(f"'{url}' has no host", field="url")
    return parsed


async def download(limits: Limits, url: str, target: Path) -> Download:
    """GET `url` into `target`, following a few redirects, within the time and size limits.

    A partial file is removed on any failure.
    """
    try:
        with anyio.fail_after(limits.total_timeout):
            return await _download(limits, check_url(url), target)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, TimeoutError | httpx.TimeoutException):
            raise OutboundTimeout(
                f"'{url}' did not answer within the time limit ({limits.timeout:g} s to connect or "
                f"between reads, {limits.total_timeout:g} s in all)",
                field="url",
            ) from None
        if isinstance(exc, httpx.RequestError):  # connection, protocol or body-decoding failures
            log.info("outbound fetch of %s failed: %r", url, exc)
            raise OutboundError(f"could not fetch '{url}': the connection failed", field="url") from None
        raise


async def _download(limits: Limits, url: httpx.URL, target: Path) -> Download:
    async with client(limits) as http:
        request = http.build_request("GET", url)
        for _ in range(limits.max_redirects + 1):
            response = await http.send(request, stream=True)
            try:
                if response.next_request is None:
                    return await _save(limits, response, target)
                request = response.next_request
                check_scheme(request.url.scheme)
            finally:
                await response.aclose()
    raise OutboundError(f"'{url}' redirected more than {limits.max_redirects} times", field="url")


async def _save(limits: Limits, response: httpx.Response, target: Path) -> Download:
    """Stream a successful body to disk, refusing it as soon as it is known to be too large."""
    if not response.is_success:
        raise BadStatus(f"'{response.url}' answered HTTP {response.status_code}", field="url")
    too_large = ResponseTooLarge(
        f"the file at '{response.url}' is larger than the limit of {limits.max_bytes} bytes", field="url"
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large
    size = 0
    with target.open("wb") as out:
        async for chunk in response.aiter_bytes(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large
            out.write(chunk)
    content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return Download(str(response.url), content_type, size)
