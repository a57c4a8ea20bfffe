"""ID tokens (OpenID Connect Core §2, §3.1.3.6) and id_token_hint (RP-Initiated Logout §2)."""

import base64
import hashlib
from typing import Any

import jwt as pyjwt
import pytest

from gatepass.clock import FixedClock
from gatepass.crypto import jwt
from gatepass.crypto.keys import ALGORITHMS, generate_signing_key
from gatepass.errors import InvalidToken
from gatepass.oidc.id_tokens import IdTokenPolicy, IdTokens, at_hash
from gatepass.tokens.access_tokens import AccessTokenPolicy, AccessTokens
from tests.tokens.support import (
    AUDIENCE,
    ISSUER,
    KEYS,
    NOW,
    StaticKeys,
    b64,
    independent_decode,
    payload_of,
)

CLIENT = "gpc_client"
OTHER_CLIENT = "gpc_other"
# OIDC Core §3.1.3.6: the hash of the alg header's algorithm; Ed25519 signs with SHA-512.
HASH_OF = {"RS256": hashlib.sha256, "ES256": hashlib.sha256, "EdDSA": hashlib.sha512}


def id_tokens(clock: FixedClock | None = None, ttl: int = 300) -> IdTokens:
    return IdTokens(StaticKeys(KEYS), IdTokenPolicy(ISSUER, ttl), clock or FixedClock(NOW))


async def issue(core: IdTokens | None = None, **changes: Any) -> str:
    args: dict[str, Any] = {
        "client_id": CLIENT,
        "alg": "RS256",
        "subject": "user-1",
        "auth_time": NOW - 30,
        "nonce": "n-0S6_WzA2Mj",
        "sid": "session-1",
    }
    return await (core or id_tokens()).issue(**(args | changes))


def independent_at_hash(access_token: str, alg: str) -> str:
    digest = HASH_OF[alg](access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_id_token_claims_follow_oidc_core_2__signed_with_the_clients_alg(alg: str) -> None:
    token = await issue(alg=alg)
    header = pyjwt.get_unverified_header(token)
    assert (header["alg"], header["kid"], header["typ"]) == (alg, KEYS[alg].kid, "JWT")
    claims = independent_decode(token, KEYS[alg].verification_key().public_jwk(), audience=CLIENT)
    assert claims == {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW - 30,
        "nonce": "n-0S6_WzA2Mj",
        "sid": "session-1",
    }


async def test_azp_names_the_client_when_there_are_several_audiences__oidc_core_2() -> None:
    claims = payload_of(await issue(extra_audiences=["https://api.example"]))
    assert claims["aud"] == [CLIENT, "https://api.example"]
    assert claims["azp"] == CLIENT


async def test_amr_and_idp_say_how_the_user_authenticated__oidc_core_2() -> None:
    federated = payload_of(await issue(amr=("fed",), idp="corp-sso"))
    assert (federated["amr"], federated["idp"]) == (["fed"], "corp-sso")
    password = payload_of(await issue(amr=("pwd",)))
    assert password["amr"] == ["pwd"]
    assert "idp" not in password


async def test_no_nonce_no_sid_when_none_was_given() -> None:
    claims = payload_of(await issue(nonce=None, sid=None))
    assert "nonce" not in claims
    assert "sid" not in claims


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_at_hash_is_the_left_half_of_the_algs_hash_of_the_access_token__oidc_core_3_1_3_6(
    alg: str,
) -> None:
    access = AccessTokens(
        StaticKeys(KEYS), AccessTokenPolicy(ISSUER, "ES256", 900, AUDIENCE), FixedClock(NOW)
    )
    access_token = (await access.issue(subject="user-1", client_id=CLIENT, scope=["openid"])).token
    claims = payload_of(await issue(alg=alg, access_token=access_token))
    assert claims["at_hash"] == independent_at_hash(access_token, alg)
    assert at_hash(access_token, alg) == claims["at_hash"]
    expected_bytes = 16 if alg != "EdDSA" else 32
    assert len(base64.urlsafe_b64decode(claims["at_hash"] + "==")) == expected_bytes


def test_at_hash_matches_the_oidc_core_example__oidc_core_a_3() -> None:
    # OpenID Connect Core Appendix A.3: this access token has this RS256 at_hash.
    assert at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == (
        "77QmUPtjPfzWtF2AnpK9RQ"
    )


# ---- id_token_hint


async def test_a_valid_hint_names_its_subject_client_and_session() -> None:
    hint = await id_tokens().verify_id_token_hint(await issue(), client_id=CLIENT)
    assert (hint.subject, hint.client_id, hint.sid) == ("user-1", CLIENT, "session-1")
    assert (await id_tokens().verify_id_token_hint(await issue())).client_id == CLIENT


async def test_an_expired_hint_is_still_accepted__rp_initiated_logout_2() -> None:
    token = await issue()
    later = id_tokens(FixedClock(NOW + 30 * 86_400))
    assert (await later.verify_id_token_hint(token, client_id=CLIENT)).subject == "user-1"


async def test_a_hint_issued_to_another_client_is_refused__rp_initiated_logout_2() -> None:
    with pytest.raises(InvalidToken):
        await id_tokens().verify_id_token_hint(await issue(), client_id=OTHER_CLIENT)


async def test_a_hint_whose_azp_is_another_client_is_refused() -> None:
    token = await issue(client_id=OTHER_CLIENT, extra_audiences=[CLIENT])
    with pytest.raises(InvalidToken):
        await id_tokens().verify_id_token_hint(token, client_id=CLIENT)


async def _hostile_hint(case: str) -> str:
    good = await issue()
    claims = payload_of(good)
    key = KEYS["RS256"]
    if case == "access token":
        access = AccessTokens(
            StaticKeys(KEYS), AccessTokenPolicy(ISSUER, "RS256", 900, CLIENT), FixedClock(NOW)
        )
        return (await access.issue(subject="user-1", client_id=CLIENT, scope=["openid"])).token
    if case == "alg none":
        return f"{b64({'alg': 'none', 'kid': key.kid, 'typ': 'JWT'})}.{b64(claims)}."
    if case == "tampered payload":
        header, _, signature = good.split(".")
        return f"{header}.{b64(claims | {'sub': 'admin'})}.{signature}"
    if case == "another issuer":
        return jwt.sign(claims | {"iss": "https://evil.example"}, key, "JWT")
    if case == "an unknown key":
        return jwt.sign(claims, generate_signing_key("RS256"), "JWT")
    if case == "no audience":
        return jwt.sign({k: v for k, v in claims.items() if k != "aud"}, key, "JWT")
    if case == "several audiences, no azp":
        return jwt.sign(claims | {"aud": [CLIENT, OTHER_CLIENT]}, key, "JWT")
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "access token",
        "alg none",
        "tampered payload",
        "another issuer",
        "an unknown key",
        "no audience",
        "several audiences, no azp",
    ],
)
async def test_a_hostile_hint_is_refused_with_invalid_token(case: str) -> None:
    with pytest.raises(InvalidToken):
        await id_tokens().verify_id_token_hint(await _hostile_hint(case))
