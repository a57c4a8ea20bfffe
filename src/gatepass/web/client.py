"""Who is calling: the client address (proxy-aware only for trusted proxies) and agent."""

import functools
import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

MAX_AGENT_LENGTH = 256
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: Request, trusted_proxies: Sequence[Network]) -> str:
    """The socket peer, or the right-most untrusted `X-Forwarded-For` hop behind trusted proxies.

    Spoofed headers from anyone else are ignored (RFC 9700 §4.13, ASVS 4.1.3), so they
    cannot reset throttling counters.
    """
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop if _is_address(hop) else peer
    return peer


# Parsing an address costs as much as the rest of a client's authentication; the same
# callers come back, and a bounded cache cannot be grown by a scan of many addresses.
@functools.lru_cache(maxsize=4096)
def throttle_key(address: str) -> str:
    """IPv6 clients own whole /64s, so they are throttled per /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; their /64 is
        # ::/64, which would put every IPv4 client in one bucket.
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:MAX_AGENT_LENGTH]


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(value: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip in network for network in networks)
