"""Redirect URI matching (R1; RFC 9700 §2.1, RFC 8252 §7.3; SECURITY.md decision 5)."""

import pytest

from gatepass.oauth.clients import Client, post_logout_redirect_uri_matches, redirect_uri_matches


def client_with(*uris: str) -> Client:
    return Client(
        client_id="gpc_test",
        name="Test",
        secret_digest=None,
        redirect_uris=uris,
        post_logout_redirect_uris=("https://app.example.com/bye",),
        grant_types=("authorization_code",),
        scopes=("openid",),
        first_party=False,
        id_token_alg="RS256",
        created_at=0.0,
        updated_at=0.0,
    )


MATCHES = {
    "the exact registered URI": ("https://app.example.com/cb", "https://app.example.com/cb"),
    "exact with a query": ("https://app.example.com/cb?a=1", "https://app.example.com/cb?a=1"),
    "a private-use URI, exactly": ("com.example.app:/cb", "com.example.app:/cb"),
    "http 127.0.0.1 on another port__rfc8252_7_3": (
        "http://127.0.0.1/cb",
        "http://127.0.0.1:51004/cb",
    ),
    "http 127.0.0.1 registered with a port, asked on another__rfc8252_7_3": (
        "http://127.0.0.1:8080/cb",
        "http://127.0.0.1:9999/cb",
    ),
    "http [::1] on any port__rfc8252_7_3": ("http://[::1]/cb", "http://[::1]:4000/cb"),
    "http localhost on any port": ("http://localhost:3000/cb", "http://localhost:3001/cb"),
    "http loopback with the same query on another port": (
        "http://127.0.0.1/cb?x=1",
        "http://127.0.0.1:5000/cb?x=1",
    ),
}


@pytest.mark.parametrize(("registered", "asked"), MATCHES.values(), ids=list(MATCHES))
def test_a_redirect_uri_matches(registered: str, asked: str) -> None:
    assert redirect_uri_matches(client_with(registered), asked)


MISMATCHES = {
    "another path": ("https://app.example.com/cb", "https://app.example.com/cb2"),
    "a path prefix": ("https://app.example.com/cb", "https://app.example.com/cb/../evil"),
    "a trailing slash": ("https://app.example.com/cb", "https://app.example.com/cb/"),
    "an added query": ("https://app.example.com/cb", "https://app.example.com/cb?x=1"),
    "another query": ("https://app.example.com/cb?a=1", "https://app.example.com/cb?a=2"),
    "a fragment": ("https://app.example.com/cb", "https://app.example.com/cb#x"),
    "host case is not normalised__decision_5": (
        "https://app.example.com/cb",
        "https://APP.example.com/cb",
    ),
    "the default port is not normalised__decision_5": (
        "https://app.example.com/cb",
        "https://app.example.com:443/cb",
    ),
    "percent-encoding is not normalised__decision_5": (
        "https://app.example.com/a b",
        "https://app.example.com/a%20b",
    ),
    "https port freedom does not exist": (
        "https://app.example.com:8443/cb",
        "https://app.example.com:9443/cb",
    ),
    "loopback ports vary but hosts do not": ("http://127.0.0.1/cb", "http://localhost:80/cb"),
    "loopback ports vary but paths do not": ("http://127.0.0.1/cb", "http://127.0.0.1:80/cb2"),
    "loopback ports vary but queries do not": (
        "http://127.0.0.1/cb",
        "http://127.0.0.1:80/cb?x=1",
    ),
    "loopback port freedom is only for http": (
        "https://127.0.0.1/cb",
        "https://127.0.0.1:8443/cb",
    ),
    "a loopback with user information": ("http://127.0.0.1/cb", "http://127.0.0.1:1@evil.com/cb"),
    "a subdomain": ("https://app.example.com/cb", "https://evil.app.example.com/cb"),
    "a prefix host": ("https://app.example.com/cb", "https://app.example.com.evil.com/cb"),
    "a port out of range": ("http://127.0.0.1/cb", "http://127.0.0.1:99999/cb"),
    "an empty string": ("https://app.example.com/cb", ""),
}


@pytest.mark.parametrize(("registered", "asked"), MISMATCHES.values(), ids=list(MISMATCHES))
def test_a_redirect_uri_does_not_match__r1(registered: str, asked: str) -> None:
    assert not redirect_uri_matches(client_with(registered), asked)


def test_any_of_several_registered_uris_matches() -> None:
    client = client_with("https://a.example.com/cb", "https://b.example.com/cb")
    assert redirect_uri_matches(client, "https://b.example.com/cb")
    assert not redirect_uri_matches(client, "https://c.example.com/cb")


def test_post_logout_redirect_uris_match_exactly() -> None:
    client = client_with("https://app.example.com/cb")
    assert post_logout_redirect_uri_matches(client, "https://app.example.com/bye")
    assert not post_logout_redirect_uri_matches(client, "https://app.example.com/bye/")
    assert not post_logout_redirect_uri_matches(client, "https://app.example.com/cb")
