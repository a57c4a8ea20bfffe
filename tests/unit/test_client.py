"""Who is calling (web/client.py): proxy headers believed only from trusted proxies."""

import ipaddress

import pytest
from starlette.requests import Request

from gatepass.web.client import MAX_AGENT_LENGTH, client_address, throttle_key, user_agent

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def request(
    peer: str | None, forwarded_for: str | None = None, agent: str | None = None
) -> Request:
    headers = []
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode("latin-1")))
    if agent is not None:
        headers.append((b"user-agent", agent.encode("latin-1")))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/login",
        "headers": headers,
        "client": (peer, 50000) if peer is not None else None,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        pytest.param(
            "203.0.113.9", "198.51.100.1", (), "203.0.113.9",
            id="with no trusted proxies the header is ignored",
        ),
        pytest.param(
            "203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9",
            id="from an untrusted peer the header is ignored",
        ),
        pytest.param(
            "10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1",
            id="from a trusted proxy the forwarded client is believed",
        ),
        pytest.param(
            "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", PROXIES, "198.51.100.1",
            id="the right-most untrusted hop wins over a spoofed left-most one",
        ),
        pytest.param(
            "fd00::2", "2001:db8::5", PROXIES, "2001:db8::5",
            id="an ipv6 proxy forwards an ipv6 client",
        ),
        pytest.param(
            "10.0.0.2", None, PROXIES, "10.0.0.2",
            id="a trusted proxy without the header is the client",
        ),
        pytest.param(
            "10.0.0.2", "10.0.0.3, 10.0.0.4", PROXIES, "10.0.0.2",
            id="when every hop is trusted the peer is the client",
        ),
        pytest.param(
            "10.0.0.2", "198.51.100.1, not-an-address", PROXIES, "10.0.0.2",
            id="a garbage hop is never taken as the client",
        ),
        pytest.param(
            "10.0.0.2", " , ,", PROXIES, "10.0.0.2",
            id="an empty header is ignored",
        ),
    ],
)  # fmt: skip
def test_client_address__rfc9700_4_13(
    peer: str, forwarded_for: str | None, trusted: tuple[ipaddress.IPv4Network, ...], expected: str
) -> None:
    assert client_address(request(peer, forwarded_for), trusted) == expected


def test_a_request_without_a_peer_is_unknown() -> None:
    assert client_address(request(None, "198.51.100.1"), PROXIES) == "unknown"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        pytest.param("198.51.100.7", "198.51.100.7", id="ipv4 is throttled per address"),
        pytest.param("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", id="ipv6 is throttled per 64"),
        pytest.param(
            "2001:DB8:1:2:FFFF:FFFF:FFFF:FFFF", "2001:db8:1:2::/64", id="ipv6 in capitals too"
        ),
        pytest.param("::ffff:198.51.100.7", "198.51.100.7", id="ipv4-mapped ipv6 is ipv4"),
        pytest.param("unknown", "unknown", id="a non-address is kept as it is"),
    ],
)
def test_throttle_key(address: str, key: str) -> None:
    assert throttle_key(address) == key


def test_two_addresses_in_one_ipv6_64_share_a_throttle_key() -> None:
    assert throttle_key("2001:db8:1:2::1") == throttle_key("2001:db8:1:2:ffff::9")
    assert throttle_key("2001:db8:1:2::1") != throttle_key("2001:db8:1:3::1")


def test_two_ipv4_mapped_clients_do_not_share_a_throttle_key() -> None:
    assert throttle_key("::ffff:198.51.100.7") != throttle_key("::ffff:203.0.113.8")


def test_the_user_agent_is_cut_to_256_characters() -> None:
    assert user_agent(request("192.0.2.1", agent="A" * 1000)) == "A" * MAX_AGENT_LENGTH
    assert user_agent(request("192.0.2.1")) == ""
