"""TokenVerifier (resource/tokens.py): RFC 9068 §4's checks, hostile tokens refused with a
typed error, the verified-token cache, revocation on every call, RFC 6750 answers.

Keys and tokens come from gatepass's own crypto code; the issuer's discovery and JWKS
are a small Starlette app (tests/resource/token_support.py), with a fixed clock.
"""

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization

from gatepass.clock import FixedClock
from gatepass.crypto.keys import generate_signing_key
from gatepass.resource import (
    FeedUnavailable,
    IssuerUnavailable,
    MalformedRequest,
    NoToken,
    ScopeMissing,
    TokenRejected,
    TokenVerifier,
    VerifiedToken,
    token_from_headers,
)
from gatepass.resource.errors import INVALID
from gatepass.resource.revocations import RevocationSet
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind, TokenFacts
from tests.resource.token_support import AUDIENCE, ISSUER, Issuer, b64, json_bytes, sign_raw

ALGORITHMS = ("RS256", "ES256", "EdDSA")


@pytest.fixture(scope="module")
def shared_issuer() -> Issuer:
    """RSA keys take a while to make: one issuer (one key per algorithm) per module."""
    return Issuer(*ALGORITHMS)


@pytest.fixture
def issuer(shared_issuer: Issuer) -> Issuer:
    """The module's keys (RS256 first), with a fresh clock, JWKS and counters per test."""
    return Issuer(clock=FixedClock(shared_issuer.clock.at), keys=list(shared_issuer.keys))


MakeVerifier = Callable[..., TokenVerifier]


@pytest.fixture
async def make_verifier(issuer: Issuer) -> AsyncIterator[MakeVerifier]:
    made: list[TokenVerifier] = []

    def make(**options: Any) -> TokenVerifier:
        options.setdefault("clock", issuer.clock)
        options.setdefault("http", issuer.http())
        verifier = TokenVerifier(ISSUER, options.pop("audience", AUDIENCE), **options)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        await verifier.aclose()


@pytest.fixture
async def verifier(make_verifier: MakeVerifier) -> TokenVerifier:
    verifier = make_verifier()
    await verifier.start()
    return verifier


async def refused(verifier: TokenVerifier, token: Any) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    return caught.value


# --- a good token ------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_a_token_gatepass_signed_verifies_with_its_claims_typed(
    alg: str, issuer: Issuer, verifier: TokenVerifier
) -> None:
    key = next(k for k in issuer.keys if k.alg == alg)
    token = issuer.mint(key, gid="grant-1", scope="orders:read orders:write")

    verified = await verifier.verify(token)

    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert verified.subject == "user-1"
    assert verified.client_id == "client-1"
    assert verified.scopes == frozenset({"orders:read", "orders:write"})
    assert verified.audience == (AUDIENCE,)
    assert verified.expires_at == claims["exp"] == int(issuer.clock.now()) + 600
    assert verified.issued_at == claims["iat"]
    assert verified.jti == claims["jti"]
    assert verified.grant_id == "grant-1"
    assert dict(verified.token_claims) == claims


async def test_the_claims_of_a_verified_token_are_read_only(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    verified = await verifier.verify(issuer.mint())
    with pytest.raises(TypeError):
        verified.token_claims["sub"] = "someone-else"  # type: ignore[index]
    with pytest.raises(AttributeError):
        verified.subject = "someone-else"  # type: ignore[misc]


async def test_require_scope_passes_for_granted_scopes_and_names_the_missing_ones(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    verified = await verifier.verify(issuer.mint(scope="orders:read profile"))

    verified.require_scope("orders:read")
    verified.require_scope("orders:read", "profile")
    assert verified.has_scope("profile")
    assert not verified.has_scope("orders:write")
    with pytest.raises(ScopeMissing) as caught:
        verified.require_scope("orders:read", "orders:write")
    assert caught.value.scopes == ("orders:read", "orders:write")
    status, headers, body = caught.value.challenge("orders")
    assert status == 403
    assert headers["WWW-Authenticate"] == (
        'Bearer realm="orders", error="insufficient_scope", '
        'error_description="The access token lacks a required scope.", '
        'scope="orders:read orders:write"'
    )
    assert body["error"] == "insufficient_scope"


async def test_a_token_without_scope_has_none(issuer: Issuer, verifier: TokenVerifier) -> None:
    verified = await verifier.verify(issuer.mint(scope=None))
    assert verified.scopes == frozenset()
    with pytest.raises(ScopeMissing):
        verified.require_scope("orders:read")


async def test_any_of_several_configured_audiences_is_accepted(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(audience=["https://other.example", AUDIENCE])
    verified = await verifier.verify(issuer.mint(aud=["https://billing.example", AUDIENCE]))
    assert verified.audience == ("https://billing.example", AUDIENCE)


# --- RFC 9068 §4: the claims ---------------------------------------------------------

LEEWAY = 30
CLAIM_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("expired beyond the leeway is refused", {"exp": -LEEWAY}, False),
    ("expired within the leeway is accepted", {"exp": -LEEWAY + 1}, True),
    ("issued beyond the leeway in the future is refused", {"iat": LEEWAY + 1}, False),
    ("issued within the leeway in the future is accepted", {"iat": LEEWAY}, True),
    ("not before beyond the leeway is refused", {"nbf": LEEWAY + 1}, False),
    ("not before within the leeway is accepted", {"nbf": LEEWAY}, True),
]


@pytest.mark.parametrize(
    ("offsets", "accepted"), [c[1:] for c in CLAIM_CASES], ids=[c[0] for c in CLAIM_CASES]
)
async def test_time_claims_are_checked_with_the_leeway__rfc7519_4_1(
    offsets: dict[str, int], accepted: bool, issuer: Issuer, verifier: TokenVerifier
) -> None:
    now = int(issuer.clock.now())
    token = issuer.mint(**{name: now + offset for name, offset in offsets.items()})
    if accepted:
        assert (await verifier.verify(token)).subject == "user-1"
    else:
        await refused(verifier, token)


BAD_CLAIMS: list[tuple[str, dict[str, Any]]] = [
    ("another issuer", {"iss": "https://evil.example"}),
    ("the issuer with a trailing slash", {"iss": ISSUER + "/"}),
    ("another audience", {"aud": "https://billing.example"}),
    ("an audience list without ours", {"aud": ["https://a.example", "https://b.example"]}),
    ("an empty audience list", {"aud": []}),
    ("no audience", {"aud": None}),
    ("an audience that is a number", {"aud": 7}),
    ("no exp", {"exp": None}),
    ("an exp that is a string", {"exp": "1900000000"}),
    ("an exp that is true", {"exp": True}),
    ("no iat", {"iat": None}),
    ("an nbf that is a string", {"nbf": "0"}),
    ("no sub", {"sub": None}),
    ("an empty sub", {"sub": ""}),
    ("no client_id", {"client_id": None}),
    ("no jti", {"jti": None}),
    ("a jti that is a number", {"jti": 42}),
    ("a scope that is a list", {"scope": ["orders:read"]}),
    ("an empty gid", {"gid": ""}),
]


@pytest.mark.parametrize("changes", [c[1] for c in BAD_CLAIMS], ids=[c[0] for c in BAD_CLAIMS])
async def test_a_token_with_a_bad_required_claim_is_refused__rfc9068_4(
    changes: dict[str, Any], issuer: Issuer, verifier: TokenVerifier
) -> None:
    await refused(verifier, issuer.mint(**changes))


async def test_an_infinite_exp_is_no_time(issuer: Issuer, verifier: TokenVerifier) -> None:
    # 1e999 is valid JSON and parses as infinity in Python: it must not mean "never expires".
    body = json_bytes(issuer.claims(exp=0)).replace(b'"exp":0', b'"exp":1e999')
    header = {"alg": issuer.key.alg, "kid": issuer.key.kid, "typ": "at+jwt"}
    assert b"1e999" in body
    await refused(verifier, sign_raw(header, body, issuer.key))


@pytest.mark.parametrize("leeway", [-1, 61, 600])
def test_a_leeway_beyond_60_seconds_is_refused_at_construction(leeway: int) -> None:
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier(ISSUER, AUDIENCE, leeway=leeway)


async def test_a_zero_leeway_refuses_a_token_one_second_past_exp(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(leeway=0)
    token = issuer.mint(exp=int(issuer.clock.now()))
    await refused(verifier, token)


# --- hostile tokens: always TokenRejected, never another exception ----------------------


def hmac_sha256(secret: bytes, signing_input: bytes) -> bytes:
    mac = hmac.HMAC(secret, hashes.SHA256())
    mac.update(signing_input)
    return mac.finalize()


def hostile_tokens(issuer: Issuer) -> dict[str, Any]:
    """Name -> token. Where a signature matters, it is genuine: the token is refused for
    what it is, not for a broken signature."""
    key = issuer.key  # RS256 in the module's issuer
    other = next(k for k in issuer.keys if k.alg != key.alg)
    claims = issuer.claims()
    good = issuer.mint()
    head, body, signature = good.split(".")
    public_pem = key.jwk.public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def hs256(secret: bytes) -> str:
        header = b64(json_bytes({"alg": "HS256", "kid": key.kid, "typ": "at+jwt"}))
        signing_input = f"{header}.{b64(json_bytes(claims))}"
        return f"{signing_input}.{b64(hmac_sha256(secret, signing_input.encode()))}"

    plain = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
    none_header = b64(json_bytes({"alg": "none", "kid": key.kid, "typ": "at+jwt"}))
    dup_header = f'{{"alg":"{key.alg}","kid":"{key.kid}","typ":"at+jwt","kid":"x"}}'.encode()
    dup_body = json_bytes(claims)[:-1] + b',"sub":"admin"}'
    utf16_body = json.dumps(claims).encode("utf-16")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    string_header = b64(b'"RS256"')
    lax_signature = signature[:-1] + _non_canonical(signature)
    return {
        "alg none without a signature": f"{none_header}.{body}.",
        "alg none with the original signature": f"{none_header}.{body}.{signature}",
        "HS256 keyed with the public key PEM": hs256(public_pem),
        "HS256 keyed with the public JWK": hs256(json.dumps(key.public_jwk()).encode()),
        "another algorithm than the key's": issuer.forge(other, header={"kid": key.kid}),
        "a jku header": issuer.forge(header={"jku": "https://evil.example/jwks"}),
        "an x5u header": issuer.forge(header={"x5u": "https://evil.example/cert.pem"}),
        "an embedded jwk": issuer.forge(header={"jwk": key.public_jwk()}),
        "an x5c header": issuer.forge(header={"x5c": ["MIIB"]}),
        "a crit header": issuer.forge(header={"crit": ["exp"], "exp": 1}),
        "an unencoded payload (b64)": issuer.forge(header={"b64": False, "crit": ["b64"]}),
        "typ JWT (an id token)": issuer.forge(header={"typ": "JWT"}),
        "no typ": issuer.forge(header={"typ": None}),
        "no kid": issuer.forge(header={"kid": None}),
        "a kid that is a number": issuer.forge(header={"kid": 7}),
        "an unknown kid": issuer.forge(header={"kid": "not-published"}),
        "duplicate header members": sign_raw(dup_header, claims, key),
        "duplicate claims": sign_raw(plain, dup_body, key),
        "a UTF-16 payload": sign_raw(plain, utf16_body, key),
        "a payload that is an array": sign_raw(plain, b"[1,2]", key),
        "a payload nested 2000 deep": sign_raw(plain, b"[" * 2000 + b"]" * 2000, key),
        "a header that is not JSON": f"{b64(b'{alg')}.{body}.{signature}",
        "a header that is a string": f"{string_header}.{body}.{signature}",
        "padding": f"{head}.{body}.{signature}==",
        "standard base64 characters": f"{head}.{body}.{signature[:-2]}+/",
        "a space": f"{head}.{body} .{signature}",
        "a non-canonical last character": f"{head}.{body}.{lax_signature}",
        "a flipped signature": f"{head}.{body}.{flipped}",
        "a length of 4n+1": f"{head}.{body}.{signature}{'A' * ((1 - len(signature)) % 4)}",
        "oversize (over 8 KB)": issuer.forge(padding_claim="x" * 9000),
        "non-ASCII": f"{head}.{body}é.{signature}",
        "two segments": f"{head}.{body}",
        "four segments": f"{good}.{signature}",
        "an empty payload segment": f"{head}..{signature}",
        "an empty string": "",
        "dots only": "..",
        "not a string: bytes": good.encode(),
        "not a string: None": None,
        "not a string: a list": [good],
    }


def _non_canonical(segment: str) -> str:
    """The last character with a spare bit set: other text, same bytes for a lax decoder."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(segment[-1])
    return alphabet[index | (1 if len(segment) % 4 == 3 else 2)]


async def test_every_hostile_token_is_refused_with_token_rejected(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    tokens = hostile_tokens(issuer)
    outcomes: dict[str, str] = {}
    for name, token in tokens.items():
        try:
            await verifier.verify(token)
        except TokenRejected as exc:
            outcomes[name] = exc.reason
        else:
            outcomes[name] = "ACCEPTED"
    accepted = [name for name, reason in outcomes.items() if reason == "ACCEPTED"]
    assert accepted == []
    assert len(outcomes) == len(tokens) >= 39
    # The reasons are for logs; the rendered answer is the same for all of them.
    assert outcomes["a jku header"] == "header 'jku' refused"
    assert outcomes["alg none with the original signature"] == "algorithm 'none' refused"
    assert outcomes["HS256 keyed with the public key PEM"] == "algorithm 'HS256' refused"
    assert outcomes["duplicate claims"] == "payload is not a JSON object: duplicate member"
    assert outcomes["duplicate header members"] == "header is not a JSON object: duplicate member"
    assert outcomes["oversize (over 8 KB)"] == "oversized token"
    assert outcomes["a non-canonical last character"] == "a segment is not strict base64url"
    assert outcomes["a length of 4n+1"] == "a segment is not strict base64url"


async def test_the_control_token_of_the_hostile_set_is_accepted(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    # The forged tokens differ from this one only in what makes them hostile.
    assert (await verifier.verify(issuer.forge())).subject == "user-1"
    assert (await verifier.verify(issuer.forge(header={"typ": "application/at+jwt"}))).jti
    assert (await verifier.verify(issuer.forge(header={"typ": "AT+JWT"}))).jti


# --- the cache ---------------------------------------------------------------------------


async def test_the_same_token_again_is_served_from_the_cache(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint()
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert again is first  # a fresh verification builds a new VerifiedToken
    assert issuer.fetches() == 1


async def test_a_cache_entry_never_outlives_the_tokens_exp(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    exp = int(issuer.clock.now()) + 60
    token = issuer.mint(exp=exp)
    first = await verifier.verify(token)

    issuer.clock.at = exp - 1
    assert await verifier.verify(token) is first
    issuer.clock.at = exp  # expired; within the leeway, so the full check accepts it anew
    within_leeway = await verifier.verify(token)
    assert within_leeway is not first
    assert within_leeway == first
    issuer.clock.at = exp + LEEWAY
    assert (await refused(verifier, token)).reason == "expired"


async def test_the_cache_is_bounded_least_recently_used_first(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(cache_size=2)
    one, two, three = issuer.mint(), issuer.mint(), issuer.mint()
    first = {token: await verifier.verify(token) for token in (one, two)}
    assert await verifier.verify(one) is first[one]  # one is now the most recent
    await verifier.verify(three)  # evicts two
    assert await verifier.verify(one) is first[one]
    assert await verifier.verify(two) is not first[two]


async def test_a_cache_size_of_zero_verifies_every_time(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(cache_size=0)
    token = issuer.mint()
    assert await verifier.verify(token) is not await verifier.verify(token)


async def test_a_refused_token_is_not_cached_and_a_tampered_copy_never_hits(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint()
    await verifier.verify(token)
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged_body = b64(json_bytes({**claims, "sub": "admin"}))
    await refused(verifier, f"{head}.{forged_body}.{signature}")
    assert (await verifier.verify(token)).subject == "user-1"


async def test_tokens_of_a_key_the_issuer_stops_publishing_leave_the_cache(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint()
    await verifier.verify(token)
    issuer.published = [k for k in issuer.keys if k is not issuer.key]
    issuer.clock.advance(301)  # the JWKS was cacheable for 300 s
    # The token is still cached and unexpired, but its key is gone at the next refetch,
    # which a token with another kid triggers here.
    await verifier.verify(issuer.mint(issuer.published[0]))
    await verifier.jwks.settle()
    assert issuer.fetches() == 2
    assert (await refused(verifier, token)).reason.startswith("unknown kid")


# --- revocation, on every call ----------------------------------------------------------


class Revoked:
    """The simplest revocation check: a list of events, each applying its own rule."""

    def __init__(self) -> None:
        self.events: list[RevocationEvent] = []
        self.asked = 0

    def kills(self, facts: TokenFacts, now: float) -> bool:
        self.asked += 1
        return any(event.kills(facts, now) for event in self.events)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        (RevocationKind.TOKEN, "jti"),
        (RevocationKind.GRANT, "gid"),
        (RevocationKind.SUBJECT, "sub"),
    ],
    ids=["its jti", "its grant", "its user since before it was issued"],
)
async def test_a_cached_token_is_refused_once_revoked_by(
    kind: RevocationKind, target: str, issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    revoked = Revoked()
    verifier = make_verifier(revocations=revoked)
    token = issuer.mint(gid="grant-7")
    verified = await verifier.verify(token)
    assert await verifier.verify(token) is verified
    assert revoked.asked == 2  # cached or not, asked every time

    now = issuer.clock.now()
    ids = {"jti": verified.jti, "gid": "grant-7", "sub": verified.subject}
    revoked.events.append(RevocationEvent(1, kind, ids[target], now + 1, now + 900))
    assert (await refused(verifier, token)).reason == "revoked"
    assert revoked.asked == 3


async def test_with_a_revocation_set_a_lost_feed_answers_503_not_a_guess(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    revocations = RevocationSet(clock=issuer.clock, max_gap_seconds=30)
    revocations.feed_restored()
    verifier = make_verifier(revocations=revocations)
    token = issuer.mint()
    await verifier.verify(token)

    revocations.feed_lost(issuer.clock.now())
    issuer.clock.advance(31)
    with pytest.raises(FeedUnavailable) as caught:
        await verifier.verify(token)
    status, headers, _ = caught.value.challenge()
    assert (status, headers["Retry-After"]) == (503, "5")

    revocations.feed_restored()
    jti = (await verifier.verify(token)).jti
    revocations.add(RevocationEvent(1, RevocationKind.TOKEN, jti, issuer.clock.now(), 2e9))
    assert (await refused(verifier, token)).reason == "revoked"


# --- the keys ----------------------------------------------------------------------------


async def test_an_unknown_kid_refetches_once_per_interval_however_many_tokens(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    unpublished = [generate_signing_key("ES256") for _ in range(3)]
    bogus = [issuer.mint(key) for key in unpublished for _ in range(10)]
    for token in bogus:  # the keys were fetched just now: no refetch yet
        await refused(verifier, token)
    assert issuer.fetches() == 1

    issuer.clock.advance(10)  # min_refetch_interval
    for token in bogus:
        await refused(verifier, token)
    assert issuer.fetches() == 2
    issuer.clock.advance(9)
    await asyncio.gather(*(refused(verifier, token) for token in bogus))
    assert issuer.fetches() == 2
    issuer.clock.advance(1)
    await asyncio.gather(*(refused(verifier, token) for token in bogus))
    assert issuer.fetches() == 3


async def test_a_new_key_is_found_by_refetching(issuer: Issuer, verifier: TokenVerifier) -> None:
    new = generate_signing_key("EdDSA")
    issuer.published.append(new)
    issuer.clock.advance(10)  # a refetch is allowed min_refetch_interval after the last
    verified = await verifier.verify(issuer.mint(new))
    assert verified.subject == "user-1"
    assert issuer.fetches() == 2


async def test_concurrent_tokens_with_a_new_kid_share_one_refetch(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    new = generate_signing_key("ES256")
    issuer.published.append(new)
    issuer.clock.advance(10)
    results = await asyncio.gather(*(verifier.verify(issuer.mint(new)) for _ in range(20)))
    assert {r.subject for r in results} == {"user-1"}
    assert issuer.fetches() == 2


async def test_verify_without_start_fetches_the_keys_itself(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier()
    assert (await verifier.verify(issuer.mint())).subject == "user-1"
    assert issuer.requests == ["/.well-known/openid-configuration", "/jwks.json"]


async def test_an_unreachable_issuer_is_unavailable_not_a_bad_token(
    issuer: Issuer, make_verifier: MakeVerifier
) -> None:
    issuer.jwks_status = 500
    verifier = make_verifier()
    with pytest.raises(IssuerUnavailable):
        await verifier.start()
    with pytest.raises(IssuerUnavailable) as caught:
        await verifier.verify(issuer.mint())
    assert caught.value.challenge()[0] == 503


async def test_the_verifier_is_an_async_context_manager(issuer: Issuer) -> None:
    async with TokenVerifier(ISSUER, AUDIENCE, http=issuer.http(), clock=issuer.clock) as v:
        assert isinstance(await v.verify(issuer.mint()), VerifiedToken)
    assert issuer.fetches() == 1


# --- RFC 6750 answers --------------------------------------------------------------------


async def test_a_refused_token_answers_401_invalid_token_and_says_nothing_of_why(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    expired = await refused(verifier, issuer.mint(exp=0))
    forged = await refused(verifier, issuer.forge(header={"alg": "none"}))
    assert expired.reason != forged.reason
    assert expired.challenge("orders") == forged.challenge("orders")
    status, headers, body = expired.challenge("orders")
    assert status == 401
    assert headers["WWW-Authenticate"] == (
        f'Bearer realm="orders", error="invalid_token", error_description="{INVALID}"'
    )
    assert headers["Cache-Control"] == "no-store"
    assert body == {"error": "invalid_token", "error_description": INVALID}


@pytest.mark.parametrize(
    ("headers", "error", "status"),
    [
        ([], NoToken, 401),
        (["Basic dXNlcjpwYXNz"], NoToken, 401),
        (["Bearer a.b.c", "Bearer d.e.f"], MalformedRequest, 400),
        (["Bearer"], MalformedRequest, 400),
    ],
    ids=["no header", "another scheme", "two headers", "no token"],
)
def test_reading_the_bearer_token_maps_to_rfc6750_answers(
    headers: list[str], error: type[Exception], status: int
) -> None:
    with pytest.raises(error) as caught:
        token_from_headers(headers)
    answer = caught.value.challenge("api")  # type: ignore[attr-defined]
    assert answer[0] == status
    if error is NoToken:  # RFC 6750 §3.1: no error code without credentials
        assert answer[1]["WWW-Authenticate"] == 'Bearer realm="api"'
        assert answer[2] == {}
    else:
        assert 'error="invalid_request"' in answer[1]["WWW-Authenticate"]


def test_the_token_of_a_bearer_header_is_read() -> None:
    assert token_from_headers(["Bearer a.b.c"]) == "a.b.c"
    with pytest.raises(MalformedRequest):
        token_from_headers(["Bearer a.b.c"], token_elsewhere=True)
