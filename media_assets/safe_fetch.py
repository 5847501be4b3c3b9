"""SSRF-safe download of a user-supplied URL to a local file.

How it stays safe:

* Only ``http``/``https``, only allowed ports, no userinfo in the URL.
* The host is parsed strictly: a numeric host must be a canonical dotted quad
  (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` are refused as
  ambiguous spellings), IPv6 literals are accepted only in brackets, names
  must be plain LDH labels after IDNA encoding.
* The name is resolved once per hop (``getaddrinfo``, every answer) and
  *every* answer is checked; one bad answer refuses the URL.
* The connection is pinned to the checked address: the request URL carries
  the IP, the ``Host`` header carries the name, and for https the TLS SNI and
  certificate check use the name (httpx/httpcore ``sni_hostname`` extension).
  A second, rebinding DNS answer is never consulted.
* Redirects are followed by hand (each hop re-parsed, re-resolved, re-checked),
  at most ``max_redirects``.
* The byte cap is enforced while streaming (and from Content-Length up front);
  a total deadline covers the whole fetch, including a body that trickles.
  A partial file is deleted on any failure.
* ``trust_env=False``: proxy variables cannot reroute the request.

Address checks: requests-hardened covers the same ground but hooks into
``requests``' adapters, not httpx, so the checks here are Python's
``ipaddress`` properties plus explicit ranges (CGNAT, cloud metadata,
NAT64/6to4/Teredo/IPv4-mapped embedded addresses).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

# Ranges refused on top of what ``ipaddress`` flags (not global, private,
# reserved, loopback, link-local, multicast, unspecified).
EXTRA_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # CGNAT; also holds Alibaba metadata 100.100.100.200
        "169.254.0.0/16",  # link-local; AWS/GCP/Azure metadata 169.254.169.254
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/3",  # multicast + class E + broadcast
        "fd00:ec2::/32",  # AWS IPv6 metadata (inside fc00::/7 too)
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "::/96",  # IPv4-compatible (deprecated) and ::, ::1
        "100::/64",  # discard-only
    )
)
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
REDIRECT_CODES = {301, 302, 303, 307, 308}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMERICISH = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class UnsafeURL(Exception):
    """The URL or one of its resolved addresses is not allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchError(Exception):
    """The fetch failed (network, status, size or time cap); partial data was removed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchResult:
    final_url: str
    content_type: str
    size: int
    path: Path


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # canonical host (IDNA name or address text)
    port: int
    path_qs: str  # path + query, never empty
    host_is_ip: bool

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == default else f"{shown}:{self.port}"


def is_blocked_address(addr: IPAddress) -> bool:
    """True for any address a server-side fetch must not reach."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            return True
        # IPv4-mapped and NAT64 addresses reach the embedded IPv4 host: judge that
        # one (NAT64 to a public host stays usable on IPv6-only servers).
        if addr.ipv4_mapped is not None:
            return is_blocked_address(addr.ipv4_mapped)
        if any(addr in net for net in NAT64_PREFIXES):
            return is_blocked_address(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        embedded: list[ipaddress.IPv4Address] = []
        if addr.sixtofour is not None:
            embedded.append(addr.sixtofour)
        if addr.teredo is not None:
            embedded.extend(addr.teredo)
        if any(is_blocked_address(v4) for v4 in embedded):
            return True
    if (
        not addr.is_global
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    ):
        return True
    return any(addr.version == net.version and addr in net for net in EXTRA_BLOCKED)


def _parse_url(url: str, *, allowed_ports: Iterable[int]) -> _Target:
    if not isinstance(url, str) or len(url) > 4096 or any(c in url for c in "\r\n\t\x00 "):
        raise UnsafeURL("The URL is malformed.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("The URL is malformed.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"Only http and https URLs can be fetched, not {scheme or 'no scheme'!r}.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL("URLs with credentials are not accepted.")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if port not in allowed_ports:
        raise UnsafeURL(f"Port {port} is not allowed.")
    raw = (parts.hostname or "").rstrip(".")
    if not raw:
        raise UnsafeURL("The URL has no host.")
    path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.netloc.startswith("["):
        if "%" in raw:
            raise UnsafeURL("Scoped IPv6 addresses are not accepted.")
        try:
            v6 = ipaddress.IPv6Address(raw)
        except ValueError as exc:
            raise UnsafeURL("The IPv6 address in the URL is malformed.") from exc
        return _Target(scheme, v6.compressed, port, path_qs, True)
    labels = raw.split(".")
    # WHATWG rule: a host whose last label is numeric is an IPv4 address; only
    # the canonical dotted quad is accepted so every spelling is one address.
    if _NUMERICISH.match(labels[-1]) or all(_NUMERICISH.match(label) for label in labels):
        try:
            v4 = ipaddress.IPv4Address(raw)
        except ValueError as exc:
            raise UnsafeURL(f"The numeric host {raw!r} is not a canonical IPv4 address.") from exc
        if str(v4) != raw:
            raise UnsafeURL(f"The numeric host {raw!r} is not a canonical IPv4 address.")
        return _Target(scheme, str(v4), port, path_qs, True)
    try:
        ascii_host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UnsafeURL("The host name is not valid.") from exc
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in ascii_host.split(".")):
        raise UnsafeURL("The host name is not valid.")
    return _Target(scheme, ascii_host, port, path_qs, False)


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _resolve_checked(
    target: _Target,
    *,
    resolver: Resolver,
    allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
    timeout: float,
) -> IPAddress:
    if target.host_is_ip:
        answers: Sequence[str] = [target.host]
    else:
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            answers = pool.submit(resolver, target.host, target.port).result(timeout=max(timeout, 0.01))
        except FutureTimeout as exc:
            raise FetchError(f"Resolving {target.host} timed out.") from exc
        except OSError as exc:
            raise FetchError(f"The host {target.host} could not be resolved.") from exc
        finally:
            pool.shutdown(wait=False)  # getaddrinfo cannot be cancelled; do not wait on it
    if not answers:
        raise FetchError(f"The host {target.host} has no address.")
    checked: list[IPAddress] = []
    for text in answers:
        try:
            addr = ipaddress.ip_address(str(text).split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeURL(f"The host {target.host} resolved to an invalid address.") from exc
        if is_blocked_address(addr) and not any(addr.version == n.version and addr in n for n in allowed):
            # Every answer is checked: one private answer refuses the host.
            raise UnsafeURL(f"The host {target.host} resolves to a non-public address ({addr}).")
        checked.append(addr)
    return checked[0]


def fetch_to_file(
    url: str,
    dest_path: str | os.PathLike[str],
    *,
    max_bytes: int,
    deadline_s: float = 60,
    max_redirects: int = 3,
    allowed_ports: Iterable[int] = (80, 443),
    resolver: Resolver | None = None,
    allowed_networks: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    verify: ssl.SSLContext | bool = True,
    user_agent: str = "MediaStudio-fetch/1",
) -> FetchResult:
    """Download ``url`` to ``dest_path`` under the SSRF, size and time rules above.

    ``resolver(host, port) -> [address, ...]`` replaces DNS (tests, custom
    resolvers).  ``allowed_networks`` lists networks exempt from the address
    block (an operator's internal media host; tests use 127.0.0.1/32).
    Raises UnsafeURL before any connection to a refused target, FetchError for
    everything else; on failure no file is left at ``dest_path``.
    """
    started = time.monotonic()
    # A range (loopback development allows every port) tests membership in O(1); copying it costs ms.
    ports = allowed_ports if isinstance(allowed_ports, (range, frozenset)) else frozenset(allowed_ports)
    allowed = [ipaddress.ip_network(n) if isinstance(n, str) else n for n in allowed_networks]
    resolve = resolver or _system_resolver
    dest = Path(os.fspath(dest_path))
    partial = dest.with_name(dest.name + ".part")

    def remaining() -> float:
        left = deadline_s - (time.monotonic() - started)
        if left <= 0:
            raise FetchError(f"The download did not finish within {deadline_s:g} s.")
        return left

    current = url
    try:
        if verify is True:
            from mediastudio.lib.http import shared_ssl_context

            verify = shared_ssl_context()  # verifying, without rebuilding the CA store per download
        with httpx.Client(
            verify=verify, trust_env=False, follow_redirects=False, http2=False, timeout=deadline_s
        ) as client:
            for _hop in range(max_redirects + 1):
                target = _parse_url(current, allowed_ports=ports)
                addr = _resolve_checked(target, resolver=resolve, allowed=allowed, timeout=remaining())
                pinned = f"[{addr}]" if addr.version == 6 else str(addr)
                request_url = f"{target.scheme}://{pinned}:{target.port}{target.path_qs}"
                extensions: dict[str, object] = {}
                left = remaining()
                extensions["timeout"] = {"connect": left, "read": left, "write": left, "pool": left}
                if target.scheme == "https" and not target.host_is_ip:
                    extensions["sni_hostname"] = target.host
                request = client.build_request(
                    "GET",
                    request_url,
                    headers={"Host": target.host_header, "User-Agent": user_agent, "Accept-Encoding": "identity"},
                    extensions=extensions,
                )
                response = client.send(request, stream=True)
                try:
                    if response.status_code in REDIRECT_CODES:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"Redirect {response.status_code} without a Location.")
                        current = urljoin(current, location)
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"The server answered HTTP {response.status_code}.")
                    size = _stream_to(response, partial, max_bytes=max_bytes, remaining=remaining)
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                finally:
                    response.close()
                os.replace(partial, dest)
                return FetchResult(final_url=current, content_type=content_type, size=size, path=dest)
            raise FetchError(f"More than {max_redirects} redirects.")
    except (UnsafeURL, FetchError):
        partial.unlink(missing_ok=True)
        raise
    except httpx.TimeoutException as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"The download did not finish within {deadline_s:g} s.") from exc
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"The download failed: {exc.__class__.__name__}.") from exc


def _stream_to(
    response: httpx.Response, partial: Path, *, max_bytes: int, remaining: Callable[[], float]
) -> int:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"The file is larger than the {max_bytes} byte limit.")
    size = 0
    with open(partial, "wb") as fh:
        # No chunk_size: httpx's re-chunker would buffer a trickle past the deadline.
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"The file is larger than the {max_bytes} byte limit.")
            fh.write(chunk)
            remaining()  # a trickling body is cut at the deadline
    return size
