"""RelyingParty against a provider that lies or breaks: every answer is refused cleanly.

The rogue provider is a real HTTP server (core_fixtures.py); what it signs and sends is
what an attacker or a broken provider could send. Each refusal is an UpstreamError with
the reason the web layer renders, never another exception.
"""

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OctKey, RSAKey
from joserfc.jws import JWSRegistry

from gatepass.clock import SystemClock
from gatepass.federation.model import UpstreamError
from gatepass.federation.relying_party import RelyingParty
from tests.federation.core_fixtures import CALLBACK, Rogue, b64url, begin_rogue, callback, rogue

__all__ = ["rogue"]  # the fixture, imported for pytest
REDIRECT = CALLBACK.format(name="rogue")


async def complete(rp: RelyingParty, rogue: Rogue, **extra: str) -> Any:
    pending = await begin_rogue(rp, rogue)
    return await rp.complete(rogue.provider(), pending, callback(pending, rogue, **extra), REDIRECT)


async def refused(rp: RelyingParty, rogue: Rogue, **extra: str) -> str:
    with pytest.raises(UpstreamError) as caught:
        await complete(rp, rogue, **extra)
    return caught.value.reason


@pytest.fixture
def rp() -> RelyingParty:
    return RelyingParty(SystemClock(), timeout=5)


async def test_an_honest_answer_is_an_identity(rp: RelyingParty, rogue: Rogue) -> None:
    identity = await complete(rp, rogue)
    assert (identity.subject, identity.email, identity.email_verified) == (
        "rogue-subject",
        "rogue@example.com",
        True,
    )
    assert identity.name == "Rogue User"


async def test_the_code_exchange_sends_the_pkce_verifier_and_basic_auth(
    rp: RelyingParty, rogue: Rogue
) -> None:
    pending = await begin_rogue(rp, rogue)
    url, _ = await rp.begin(rogue.provider(), REDIRECT)
    assert "code_challenge_method=S256" in url
    await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
    _kind, headers, form = rogue.requests[0]
    assert form["code_verifier"] == pending.code_verifier
    assert form["redirect_uri"] == REDIRECT
    assert "client_secret" not in form
    expected = base64.b64encode(b"rogue-client:rogue-secret").decode()
    assert headers["authorization"] == f"Basic {expected}"


async def test_client_secret_post_when_the_provider_accepts_only_that(
    rp: RelyingParty, rogue: Rogue
) -> None:
    rogue.discovery_overrides["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    await complete(rp, rogue)
    _kind, headers, form = rogue.requests[0]
    assert form["client_secret"] == "rogue-secret"
    assert "authorization" not in headers


def _challenge(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode()).digest())


async def test_the_challenge_sent_is_s256_of_the_verifier(rp: RelyingParty, rogue: Rogue) -> None:
    url, pending = await rp.begin(rogue.provider(), REDIRECT)
    assert f"code_challenge={_challenge(pending.code_verifier)}" in url


@dataclass(frozen=True)
class FromNow:
    seconds: int


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "another-client"}, "an id token for another client"),
        ({"aud": ["rogue-client", "another"]}, "several audiences and no azp"),
        ({"aud": ["rogue-client", "another"], "azp": "another"}, "azp naming another client"),
        ({"azp": "another"}, "azp naming another client, one audience"),
        ({"iss": "https://evil.example"}, "another issuer"),
        ({"exp": FromNow(-120)}, "expired beyond the leeway"),
        ({"iat": FromNow(600)}, "issued in the future"),
        ({"nbf": FromNow(600)}, "not yet valid"),
        ({"nonce": "not-the-nonce"}, "another nonce"),
        ({"nonce": None}, "no nonce"),
        ({"sub": ""}, "an empty subject"),
        ({"exp": "tomorrow"}, "a non-numeric exp"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_an_id_token_with_bad_claims_is_refused(
    rp: RelyingParty, rogue: Rogue, claims: dict[str, Any], why: str
) -> None:
    # Times are taken when the test runs, not when it is collected (a long run would
    # otherwise see "in the future" become the past).
    now = int(time.time())
    rogue.claims_overrides = {
        name: now + value.seconds if isinstance(value, FromNow) else value
        for name, value in claims.items()
    }
    assert await refused(rp, rogue) == "invalid_id_token", why


async def test_an_expiry_within_the_leeway_is_accepted(rp: RelyingParty, rogue: Rogue) -> None:
    rogue.claims_overrides = {"exp": int(time.time()) - 20}
    assert (await complete(rp, rogue)).subject == "rogue-subject"


async def test_several_audiences_with_our_azp_are_accepted(rp: RelyingParty, rogue: Rogue) -> None:
    rogue.claims_overrides = {"aud": ["rogue-client", "another"], "azp": "rogue-client"}
    assert (await complete(rp, rogue)).subject == "rogue-subject"


def _token_answer(id_token: str) -> Any:
    return lambda _form: (200, {"access_token": "at", "token_type": "Bearer", "id_token": id_token})


async def test_a_token_signed_by_a_key_outside_the_jwks_is_refused(
    rp: RelyingParty, rogue: Rogue
) -> None:
    pending = await begin_rogue(rp, rogue)
    impostor = RSAKey.generate_key(2048, private=True)
    rogue.token_answer = _token_answer(rogue.sign(rogue.claims(), key=impostor))
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
    assert caught.value.reason == "invalid_id_token"


async def test_an_unknown_kid_refetches_the_jwks_once_a_minute_at_most(
    rp: RelyingParty, rogue: Rogue
) -> None:
    impostor = RSAKey.generate_key(2048, private=True)
    for _ in range(3):
        pending = await begin_rogue(rp, rogue)
        rogue.token_answer = _token_answer(rogue.sign(rogue.claims(), key=impostor, kid="invented"))
        with pytest.raises(UpstreamError) as caught:
            await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
        assert caught.value.reason == "invalid_id_token"
    assert rogue.jwks_fetches == 1  # the first fetch was seconds ago: no refetch yet


async def test_a_key_rotated_in_is_found_by_one_refetch(rp: RelyingParty, rogue: Rogue) -> None:
    await complete(rp, rogue)  # keys fetched and cached
    rp.metadata._keys[rogue.issuer + "/jwks"].fetched_at -= 61  # the last fetch is old
    rotated = RSAKey.generate_key(2048, private=True)
    rogue.extra_keys.append({**rotated.as_dict(private=False), "kid": "rogue-2", "alg": "RS256"})
    pending = await begin_rogue(rp, rogue)
    rogue.token_answer = _token_answer(rogue.sign(rogue.claims(), key=rotated, kid="rogue-2"))
    identity = await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
    assert identity.subject == "rogue-subject"
    assert rogue.jwks_fetches == 2


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    header = b64url(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


async def test_alg_none_is_refused(rp: RelyingParty, rogue: Rogue) -> None:
    pending = await begin_rogue(rp, rogue)
    rogue.token_answer = _token_answer(_unsigned(rogue.claims(), rogue.kid))
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
    assert caught.value.reason == "invalid_id_token"


async def test_hmac_keyed_with_the_public_key_is_refused(rp: RelyingParty, rogue: Rogue) -> None:
    """The classic confusion (RFC 8725 §2.1): HS256 with the published key as its secret."""
    pending = await begin_rogue(rp, rogue)
    secret = OctKey.import_key(json.dumps(rogue.jwks()["keys"][0]).encode())
    header = {"alg": "HS256", "kid": rogue.kid}
    forged = jws.serialize_compact(
        header,
        json.dumps(rogue.claims()).encode(),
        secret,
        registry=JWSRegistry(algorithms=["HS256"]),
    )
    rogue.token_answer = _token_answer(forged)
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(rogue.provider(), pending, callback(pending, rogue), REDIRECT)
    assert caught.value.reason == "invalid_id_token"


async def test_an_algorithm_the_provider_does_not_advertise_is_refused(
    rp: RelyingParty, rogue: Rogue
) -> None:
    rogue.discovery_overrides["id_token_signing_alg_values_supported"] = ["ES256"]
    assert await refused(rp, rogue) == "invalid_id_token"


async def test_userinfo_about_another_subject_is_refused(rp: RelyingParty, rogue: Rogue) -> None:
    """OIDC Core §5.3.4: the UserInfo sub MUST match the id token's."""
    rogue.userinfo = {"sub": "someone-else", "email": "victim@example.com"}
    assert await refused(rp, rogue) == "invalid_id_token"


async def test_userinfo_fills_in_what_the_id_token_lacks(rp: RelyingParty, rogue: Rogue) -> None:
    rogue.claims_overrides = {"email": None, "email_verified": None, "name": None}
    rogue.userinfo = {"sub": "rogue-subject", "email": "u@example.com", "email_verified": "true"}
    identity = await complete(rp, rogue)
    assert identity.email == "u@example.com"
    assert identity.email_verified is False  # only a literal true counts
    assert identity.name == "u@example.com"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, {"error": "server_error"}, "unavailable"),
        (400, {"error": "invalid_grant"}, "exchange_failed"),
        (401, {"error": "invalid_client"}, "exchange_failed"),
        (200, b"<html>not json</html>", "unavailable"),
        (200, {"access_token": "at", "token_type": "Bearer"}, "invalid_id_token"),
        (200, {"access_token": "at", "token_type": "MAC", "id_token": "x"}, "exchange_failed"),
        (200, {"error": "bad_verification_code"}, "exchange_failed"),
        (200, b"[" + b" " * (2 * 1024 * 1024) + b"]", "unavailable"),
    ],
    ids=[
        "a 500 is unavailable",
        "invalid_grant fails the exchange",
        "invalid_client fails the exchange",
        "HTML is unavailable",
        "no id token",
        "not a bearer token",
        "an error with status 200 fails the exchange",
        "two mebibytes are not read",
    ],
)
async def test_a_broken_token_endpoint_is_refused(
    rp: RelyingParty, rogue: Rogue, status: int, body: Any, reason: str
) -> None:
    rogue.token_answer = lambda _form: (status, body)
    assert await refused(rp, rogue) == reason


async def test_an_iss_parameter_of_another_provider_is_a_mix_up(
    rp: RelyingParty, rogue: Rogue
) -> None:
    """RFC 9207 §2.4: the iss in the response names who answered."""
    assert await refused(rp, rogue, iss="https://evil.example") == "invalid_state"
    assert rogue.requests == []  # refused before the code went anywhere


async def test_a_missing_iss_parameter_is_refused_when_the_provider_sends_it(
    rp: RelyingParty, rogue: Rogue
) -> None:
    pending = await begin_rogue(rp, rogue)
    params = {"code": "c", "state": pending.state}
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(rogue.provider(), pending, params, REDIRECT)
    assert caught.value.reason == "invalid_state"
    rogue.discovery_overrides["authorization_response_iss_parameter_supported"] = False
    other = RelyingParty(SystemClock())
    pending = await begin_rogue(other, rogue)
    identity = await other.complete(
        rogue.provider(), pending, {"code": "c", "state": pending.state}, REDIRECT
    )
    assert identity.subject == "rogue-subject"


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_endpoint": "http://provider.example/token"},
        {"jwks_uri": None},
        {"id_token_signing_alg_values_supported": ["HS256", "none"]},
    ],
    ids=["plain http to another host", "no jwks_uri", "only HMAC and none"],
)
async def test_an_unsafe_discovery_document_is_misconfigured(
    rp: RelyingParty, rogue: Rogue, overrides: dict[str, Any]
) -> None:
    rogue.discovery_overrides = overrides
    with pytest.raises(UpstreamError) as caught:
        await rp.begin(rogue.provider(), REDIRECT)
    assert caught.value.reason == "misconfigured"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("access_denied", "access_denied"),
        ("login_required", "access_denied"),
        ("temporarily_unavailable", "unavailable"),
        ("invalid_scope", "misconfigured"),
    ],
)
async def test_an_error_answer_is_named(
    rp: RelyingParty, rogue: Rogue, error: str, reason: str
) -> None:
    pending = await begin_rogue(rp, rogue)
    params = {"error": error, "state": pending.state}
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(rogue.provider(), pending, params, REDIRECT)
    assert caught.value.reason == reason
