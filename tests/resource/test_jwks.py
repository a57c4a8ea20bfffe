"""The issuer's keys (resource/jwks.py): JWK import, the JWK Set, Cache-Control, and the
whole path against a real `gatepass serve`: discovery, a real access token from /token,
max-age honoured, a key rotation, and the unknown-kid refetch limit.

Fetches are counted by a transport that wraps httpx's real one: counted, not mocked.
"""

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gatepass.clock import FixedClock
from gatepass.config import load_settings
from gatepass.crypto import jwt
from gatepass.crypto.keys import generate_signing_key
from gatepass.resource import IssuerUnavailable, ScopeMissing, TokenRejected, TokenVerifier
from gatepass.resource.jwks import (
    MAX_CACHE_SECONDS,
    MAX_KEYS,
    JwksCache,
    UnusableKey,
    cache_lifetime,
    import_jwk,
    keys_of,
)
from gatepass.storage.backends import open_backends
from gatepass.web.app import build_key_ring
from tests.live_server import LiveServer, live_server
from tests.resource.token_support import ISSUER, Issuer
from tests.support import SECRET_KEY

# --- JWK import ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gatepass_keys() -> dict[str, Any]:
    """One key per algorithm, made by gatepass's own key code."""
    return {alg: generate_signing_key(alg) for alg in ("RS256", "ES256", "EdDSA")}


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_the_keys_gatepass_publishes_are_imported_pinned_to_their_alg(
    alg: str, gatepass_keys: dict[str, Any]
) -> None:
    jwk = gatepass_keys[alg].public_jwk()
    key = import_jwk(jwk)
    assert (key.kid, key.alg) == (jwk["kid"], alg)
    assert key == import_jwk(dict(jwk))  # same material, same key


def _jwk(gatepass_keys: dict[str, Any], key_alg: str, /, **changes: Any) -> dict[str, Any]:
    jwk = {**gatepass_keys[key_alg].public_jwk(), **changes}
    return {name: value for name, value in jwk.items() if value is not None}


UNUSABLE: list[tuple[str, str, dict[str, Any]]] = [
    ("no alg", "ES256", {"alg": None}),
    ("no kid", "ES256", {"kid": None}),
    ("an empty kid", "ES256", {"kid": ""}),
    ("an HMAC alg", "ES256", {"alg": "HS256"}),
    ("alg none", "ES256", {"alg": "none"}),
    ("an RSA key said to be ES256", "RS256", {"alg": "ES256"}),
    ("an EC key said to be RS256", "ES256", {"alg": "RS256"}),
    ("an Ed25519 key said to be ES256", "EdDSA", {"alg": "ES256"}),
    ("PS256, not accepted", "RS256", {"alg": "PS256"}),
    ("an encryption key", "ES256", {"use": "enc"}),
    ("key_ops without verify", "ES256", {"key_ops": ["encrypt"]}),
    ("a private member", "ES256", {"d": "AAAA"}),
    ("a curve point off the curve", "ES256", {"y": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    ("P-384 for ES256", "ES256", {"crv": "P-384"}),
    ("an X25519 key for EdDSA", "EdDSA", {"crv": "X25519"}),
    ("an RSA modulus that is not base64url", "RS256", {"n": "not base64!"}),
    ("a 1024-bit RSA key", "RS256", {"n": base64.urlsafe_b64encode(b"\xc1" * 128).decode()}),
]


@pytest.mark.parametrize(
    ("alg", "changes"), [u[1:] for u in UNUSABLE], ids=[u[0] for u in UNUSABLE]
)
def test_an_unusable_jwk_is_refused(
    alg: str, changes: dict[str, Any], gatepass_keys: dict[str, Any]
) -> None:
    with pytest.raises(UnusableKey):
        import_jwk(_jwk(gatepass_keys, alg, **changes))


def test_a_jwk_set_keeps_the_good_keys_and_skips_the_rest(gatepass_keys: dict[str, Any]) -> None:
    es, rs = gatepass_keys["ES256"].public_jwk(), gatepass_keys["RS256"].public_jwk()
    document = {"keys": [es, {**rs, "use": "enc"}, "not a key", {**es, "kid": "other", "x": 1}]}
    assert set(keys_of(document)) == {es["kid"]}


def test_a_kid_that_names_two_keys_names_neither(gatepass_keys: dict[str, Any]) -> None:
    es, ed = gatepass_keys["ES256"].public_jwk(), gatepass_keys["EdDSA"].public_jwk()
    other = generate_signing_key("ES256").public_jwk()
    keys = keys_of({"keys": [es, {**other, "kid": es["kid"]}, ed]})
    assert set(keys) == {ed["kid"]}


@pytest.mark.parametrize("document", [{}, {"keys": {}}, [], "keys", None])
def test_a_document_without_a_keys_array_is_no_jwk_set(document: Any) -> None:
    with pytest.raises(IssuerUnavailable):
        keys_of(document)


def test_only_the_first_keys_of_a_huge_set_are_read(gatepass_keys: dict[str, Any]) -> None:
    late = gatepass_keys["EdDSA"].public_jwk()
    filler = [{"kty": "oct", "kid": f"k{i}", "alg": "HS256", "k": "AA"} for i in range(MAX_KEYS)]
    assert keys_of({"keys": [*filler, late]}) == {}


# --- Cache-Control (RFC 9111 §5.2.2) ---------------------------------------------------

LIFETIMES: list[tuple[str, dict[str, str], float]] = [
    ("max-age is honoured", {"cache-control": "public, max-age=600"}, 600),
    ("directives are case-insensitive", {"cache-control": "Public, Max-Age=600"}, 600),
    ("a quoted max-age is read", {"cache-control": 'max-age="600"'}, 600),
    ("Age is subtracted", {"cache-control": "max-age=600", "age": "100"}, 500),
    ("no header means the default", {}, 300),
    ("a malformed max-age means the default", {"cache-control": "max-age=soon"}, 300),
    ("no-cache means the floor", {"cache-control": "no-cache, max-age=600"}, 10),
    ("no-store means the floor", {"cache-control": "no-store"}, 10),
    ("max-age=0 means the floor", {"cache-control": "max-age=0"}, 10),
    ("an old Age means the floor", {"cache-control": "max-age=60", "age": "600"}, 10),
    ("a year is cut to a day", {"cache-control": "max-age=31536000"}, MAX_CACHE_SECONDS),
]


@pytest.mark.parametrize(
    ("headers", "seconds"), [c[1:] for c in LIFETIMES], ids=[c[0] for c in LIFETIMES]
)
def test_the_jwks_is_cached_as_long_as_cache_control_says(
    headers: dict[str, str], seconds: float
) -> None:
    assert cache_lifetime(headers, floor=10) == seconds


# --- against a small issuer: documents a real issuer should never serve ------------------


@pytest.fixture
def issuer() -> Issuer:
    return Issuer("ES256")


async def start(issuer: Issuer, **options: Any) -> JwksCache:
    cache = JwksCache(ISSUER, http=issuer.http(), clock=issuer.clock, **options)
    await cache.start()
    return cache


@pytest.mark.parametrize(
    "metadata",
    [
        {"issuer": "https://evil.example", "jwks_uri": f"{ISSUER}/jwks.json"},
        {"issuer": ISSUER + "/", "jwks_uri": f"{ISSUER}/jwks.json"},
        {"issuer": ISSUER, "jwks_uri": "http://id.gatepass.test/jwks.json"},
        {"issuer": ISSUER, "jwks_uri": "file:///etc/passwd"},
        {"issuer": ISSUER},
        {"issuer": ISSUER, "jwks_uri": 7},
    ],
    ids=[
        "another issuer (OIDC Discovery 4.3)",
        "the issuer with a trailing slash",
        "http keys for an https issuer",
        "a file URI",
        "no jwks_uri",
        "a jwks_uri that is a number",
    ],
)
async def test_metadata_that_is_not_the_issuers_own_is_refused(
    metadata: dict[str, Any], issuer: Issuer
) -> None:
    issuer.metadata = metadata
    with pytest.raises(IssuerUnavailable):
        await start(issuer)
    assert issuer.fetches() == 0


async def test_a_jwks_with_no_usable_key_is_refused_at_start(issuer: Issuer) -> None:
    issuer.jwks_override = {"keys": [{"kty": "oct", "kid": "h", "alg": "HS256", "k": "c2VjcmV0"}]}
    with pytest.raises(IssuerUnavailable, match="no usable key"):
        await start(issuer)


async def test_an_oversized_jwks_is_refused(issuer: Issuer) -> None:
    issuer.jwks_override = {"keys": [issuer.key.public_jwk()], "pad": "x" * 70_000}
    with pytest.raises(IssuerUnavailable, match="more than"):
        await start(issuer)


async def test_a_jwks_uri_given_skips_discovery(issuer: Issuer) -> None:
    cache = await start(issuer, jwks_uri=f"{ISSUER}/jwks.json")
    assert cache.kids == {issuer.key.kid}
    assert issuer.requests == ["/jwks.json"]


async def test_the_keys_are_refetched_when_max_age_runs_out(issuer: Issuer) -> None:
    issuer.cache_control = "max-age=120"
    cache = await start(issuer)
    kid = issuer.key.kid

    issuer.clock.advance(119)
    assert cache.cached(kid, issuer.clock.now()) is not None
    assert await cache.key(kid) is not None
    assert issuer.fetches() == 1
    issuer.clock.advance(1)
    assert cache.cached(kid, issuer.clock.now()) is None  # stale: the fast path says no
    assert await cache.key(kid) is not None  # the stale key at once, a refetch behind it
    await cache.settle()
    assert issuer.fetches() == 2
    assert cache.cached(kid, issuer.clock.now()) is not None


async def test_no_store_still_caches_for_the_refetch_interval(issuer: Issuer) -> None:
    issuer.cache_control = "no-store"
    cache = await start(issuer, min_refetch_interval=5)
    issuer.clock.advance(4)
    assert cache.cached(issuer.key.kid, issuer.clock.now()) is not None
    issuer.clock.advance(1)
    await cache.key(issuer.key.kid)
    await cache.settle()
    assert issuer.fetches() == 2


async def test_a_failed_refetch_keeps_the_keys_and_retries_after_the_interval(
    issuer: Issuer,
) -> None:
    cache = await start(issuer)
    issuer.jwks_status = 503
    issuer.clock.advance(300)
    for _ in range(3):
        assert await cache.key(issuer.key.kid) is not None  # stale, but the best there is
        await cache.settle()
    assert issuer.fetches() == 2  # one failed refetch, not one per call
    issuer.jwks_status = 200
    issuer.clock.advance(10)
    assert await cache.key(issuer.key.kid) is not None
    await cache.settle()
    assert issuer.fetches() == 3
    assert cache.cached(issuer.key.kid, issuer.clock.now()) is not None


async def test_listeners_hear_of_dropped_keys_only(issuer: Issuer) -> None:
    cache = await start(issuer)
    heard: list[frozenset[str]] = []
    cache.on_keys_dropped(heard.append)
    new = generate_signing_key("EdDSA")
    issuer.published.append(new)
    issuer.clock.advance(300)
    await cache.key(new.kid)
    assert heard == []
    issuer.published = [new]
    issuer.clock.advance(300)
    await cache.key(new.kid)
    await cache.settle()
    assert heard == [frozenset({issuer.key.kid})]


async def test_a_routine_refresh_never_holds_a_request_up(issuer: Issuer) -> None:
    cache = await start(issuer)
    issuer.gate = asyncio.Event()  # the issuer answers only when the test says so
    issuer.clock.advance(300)
    async with asyncio.timeout(5):  # a safety net: the key comes back without the issuer
        assert await cache.key(issuer.key.kid) is not None
    assert issuer.fetches() == 1  # the refetch has not even been answered yet
    issuer.gate.set()
    await cache.settle()
    assert issuer.fetches() == 2


def test_the_refetch_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_refetch_interval"):
        JwksCache(ISSUER, min_refetch_interval=0)


# --- against a real `gatepass serve` ----------------------------------------------------

JWKS_MAX_AGE = 60
RESOURCE = "https://orders.example"


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, with every request path written down."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def fetches(self) -> int:
        return self.paths.count("/jwks.json")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "GATEPASS_JWKS_MAX_AGE": str(JWKS_MAX_AGE),
        # Known to the test too, so it can open the sealed keys for the rotation test.
        "GATEPASS_SECRET_KEY": SECRET_KEY,
    }
    with live_server(tmp_path_factory.mktemp("resource-jwks"), settings) as live:
        yield live


@pytest.fixture(scope="module")
def machine(server: LiveServer) -> tuple[str, str]:
    """A confidential client for the client credentials grant, made with the CLI."""
    created = json.loads(
        server.cli(
            "client", "create", f"orders-{secrets.token_hex(3)}", "--json",
            "--grant-type", "client_credentials", "--scope", "orders:read",
        )
    )  # fmt: skip
    return created["client_id"], created["client_secret"]


async def access_token(server: LiveServer, machine: tuple[str, str], **form: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post(
            "/token", data={"grant_type": "client_credentials", **form}, auth=machine
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    kid: str = header["kid"]
    return kid


@pytest.fixture
async def counting() -> AsyncIterator[CountingTransport]:
    transport = CountingTransport()
    yield transport
    await transport.aclose()


@pytest.fixture
def clock() -> FixedClock:
    """Real time now; each test moves it on by hand, past what the server knows."""
    return FixedClock(time.time())


@pytest.fixture
async def verifier(
    server: LiveServer, counting: CountingTransport, clock: FixedClock
) -> AsyncIterator[TokenVerifier]:
    http = httpx.AsyncClient(transport=counting, timeout=10)
    async with TokenVerifier(server.url, server.url + "/api", http=http, clock=clock) as verifier:
        yield verifier
    await http.aclose()


async def test_discovery_finds_the_live_servers_jwks(
    server: LiveServer, counting: CountingTransport
) -> None:
    async with httpx.AsyncClient(transport=counting) as http:
        cache = JwksCache(server.url, http=http)
        await cache.start()
    async with httpx.AsyncClient() as plain:
        published = (await plain.get(f"{server.url}/jwks.json")).json()["keys"]
    assert cache.jwks_uri == f"{server.url}/jwks.json"
    assert cache.kids == {key["kid"] for key in published}
    assert {key["alg"] for key in published} == {"RS256", "ES256", "EdDSA"}
    assert counting.paths == ["/.well-known/openid-configuration", "/jwks.json"]


async def test_a_real_access_token_from_the_token_endpoint_verifies(
    server: LiveServer, machine: tuple[str, str], verifier: TokenVerifier
) -> None:
    token = await access_token(server, machine, scope="orders:read")
    verified = await verifier.verify(token)
    assert verified.client_id == machine[0]
    assert verified.audience == (server.url + "/api",)
    assert verified.scopes == frozenset({"orders:read"})
    verified.require_scope("orders:read")
    with pytest.raises(ScopeMissing):
        verified.require_scope("orders:write")


async def test_a_token_for_another_resource_is_refused_here_and_accepted_there(
    server: LiveServer, machine: tuple[str, str], verifier: TokenVerifier, clock: FixedClock
) -> None:
    token = await access_token(server, machine, resource=RESOURCE)  # RFC 8707
    assert (await refused(verifier, token)).reason == "not for this audience"
    async with TokenVerifier(server.url, RESOURCE, clock=clock) as orders:
        assert (await orders.verify(token)).client_id == machine[0]


async def refused(verifier: TokenVerifier, token: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    return caught.value


async def test_the_servers_max_age_is_honoured(
    server: LiveServer,
    machine: tuple[str, str],
    verifier: TokenVerifier,
    counting: CountingTransport,
    clock: FixedClock,
) -> None:
    started = clock.now()
    await verifier.verify(await access_token(server, machine))
    clock.at = started + JWKS_MAX_AGE - 1
    await verifier.verify(await access_token(server, machine))  # a new token: a fresh check
    assert counting.fetches() == 1
    clock.at = started + JWKS_MAX_AGE
    await verifier.verify(await access_token(server, machine))
    await verifier.jwks.settle()  # stale: the keys it holds now, a refetch behind them
    assert counting.fetches() == 2


async def test_a_flood_of_unknown_kids_refetches_once_per_interval(
    server: LiveServer, verifier: TokenVerifier, counting: CountingTransport, clock: FixedClock
) -> None:
    def bogus() -> str:
        # Well formed, issued by "the server", signed by a key it never published.
        claims = {
            "iss": server.url, "aud": server.url + "/api", "sub": "x", "client_id": "x",
            "jti": secrets.token_urlsafe(8), "iat": int(clock.now()), "exp": int(clock.now()) + 60,
        }  # fmt: skip
        return jwt.sign(claims, generate_signing_key("ES256"), "at+jwt")

    flood = [bogus() for _ in range(20)]
    for token in flood:
        assert (await refused(verifier, token)).reason.startswith("unknown kid")
    assert counting.fetches() == 1  # fetched at start, moments ago: no refetch yet

    clock.advance(10)
    await asyncio.gather(*(refused(verifier, token) for token in flood))
    assert counting.fetches() == 2
    clock.advance(5)
    for token in flood:
        await refused(verifier, token)
    assert counting.fetches() == 2


async def test_a_rotated_key_is_published_before_it_signs_and_then_verifies(
    server: LiveServer,
    machine: tuple[str, str],
    verifier: TokenVerifier,
    counting: CountingTransport,
    clock: FixedClock,
) -> None:
    before = await access_token(server, machine)
    await verifier.verify(before)
    rotated = json.loads(server.cli("key", "rotate", "--alg", "ES256", "--json"))
    assert rotated["state"] == "next"

    # The server reloads its key ring at least once a minute (keys/ring.py); the new key
    # appears in /jwks.json then, well before it signs (the JWKS max-age plus a minute).
    await published(server, rotated["kid"])
    after = await access_token(server, machine)
    assert kid_of(after) == kid_of(before) != rotated["kid"]

    # Once the new key is active (here: a key ring over the server's own storage, read at
    # a time past the rotation's lead), its tokens verify after one refetch.
    token = await sign_with_the_next_key(server, rotated["kid"], machine[0])
    clock.at = time.time() + 10  # past the refetch interval since the verifier started
    fetched = counting.fetches()
    verified = await verifier.verify(token)
    assert verified.jti
    assert counting.fetches() == fetched + 1
    # The old key still verifies what it signed: it stays published until those expire.
    assert (await verifier.verify(after)).client_id == machine[0]


async def published(server: LiveServer, kid: str, *, within: float = 90) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=server.url) as client:
        while time.monotonic() < deadline:
            keys = (await client.get("/jwks.json")).json()["keys"]
            if kid in {key["kid"] for key in keys}:
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"key {kid} not published within {within} s")


async def sign_with_the_next_key(server: LiveServer, kid: str, client_id: str) -> str:
    settings = load_settings(environ=server.env)
    backends = await open_backends(settings)
    try:
        lead = settings.jwks_max_age + 60  # RotationPolicy.publish_lead_seconds
        later = build_key_ring(settings, backends, FixedClock(time.time() + lead + 1))
        key = await later.signing_key("ES256")
    finally:
        await backends.close()
    assert key.kid == kid
    now = int(time.time())
    claims = {
        "iss": server.url, "aud": server.url + "/api", "sub": client_id, "client_id": client_id,
        "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + 300,
    }  # fmt: skip
    return jwt.sign(claims, key, "at+jwt")
