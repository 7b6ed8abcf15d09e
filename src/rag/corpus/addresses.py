"""Which network addresses the source fetcher may contact, and name resolution with a deadline.

Only public addresses are contacted: a footnote URL (or a redirect) must not reach this
machine, the local network or a cloud metadata service.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

__all__ = ["address_refusal", "resolve"]

_METADATA = frozenset(map(ipaddress.ip_address, ("169.254.169.254", "fd00:ec2::254")))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int, deadline: float) -> list[str] | None:
    """Every address ``host`` resolves to, in the resolver's order of preference; None when
    it does not resolve by ``deadline`` (a ``time.monotonic()`` value)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass  # a name, not a literal address
    answer: list[list[str] | None] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            answer.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))
        except (OSError, UnicodeError):
            answer.append(None)

    # getaddrinfo has no timeout; a daemon thread keeps a stuck resolver from hanging us.
    worker = threading.Thread(target=lookup, name="rag-resolve", daemon=True)
    worker.start()
    worker.join(max(deadline - time.monotonic(), 0))
    return answer[0] if answer and answer[0] else None


def address_refusal(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why ``address`` must not be contacted (e.g. "10.0.0.1 is a private address"), or None.

    ``allow_loopback`` lets 127.0.0.0/8 and ::1 through (tests serve pages there); private,
    link-local, multicast, reserved and metadata addresses are refused regardless.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address} is not an IP address"
    kind = _address_kind(_embedded_ipv4(ip) or ip)
    if kind is None or (kind == "a loopback" and allow_loopback):
        return None
    return f"{address} is {kind} address"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    # An IPv6 form of an IPv4 address reaches that IPv4 host: ::ffff:127.0.0.1 is loopback.
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour


def _address_kind(ip: IPAddress) -> str | None:
    """The kind of a non-public address, with its article; None for a public one."""
    checks = (
        (ip in _METADATA, "a cloud metadata"),
        (ip.is_loopback, "a loopback"),
        (ip.is_unspecified, "an unspecified"),
        (ip.is_link_local, "a link-local"),
        (ip.is_multicast, "a multicast"),
        (ip.is_private, "a private"),
        (ip.is_reserved, "a reserved"),
        (not ip.is_global, "a non-public"),  # e.g. 100.64.0.0/10, shared carrier NAT
    )
    return next((kind for refused, kind in checks if refused), None)
