"""Authorization codes, issued and redeemed (oauth/codes.py) on every backend.

RFC 6749 §4.1.2, §4.1.3; OAuth 2.1 §4.1.3, §7.5.2; RFC 7636 §4.6; SECURITY.md R4, R7, R8,
R14 and decision 2.
"""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from gatepass.clock import FixedClock
from gatepass.config import load_settings
from gatepass.crypto.secrets import digest, looks_like_secret
from gatepass.errors import ConfigError
from gatepass.oauth.authorize import AuthorizationRequest
from gatepass.oauth.clients import Client, new_client_id
from gatepass.oauth.codes import (
    AlreadyRedeemed,
    AuthorizationCodes,
    Invalid,
    Redeemed,
    RedeemResult,
)
from gatepass.oauth.errors import InvalidGrant
from gatepass.oauth.pkce import s256
from gatepass.storage.backends import Backends

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REDIRECT = "http://127.0.0.1:50719/cb"
CLIENT = Client(
    client_id=new_client_id(),
    name="Example App",
    secret_digest=None,
    redirect_uris=("http://127.0.0.1/cb", "https://app.example.com/cb"),
    post_logout_redirect_uris=(),
    grant_types=("authorization_code",),
    scopes=("openid", "profile"),
    first_party=False,
    id_token_alg="RS256",
    created_at=0.0,
    updated_at=0.0,
)
REQUEST = AuthorizationRequest(
    client=CLIENT,
    redirect_uri=REDIRECT,
    scopes=("openid", "profile"),
    code_challenge=s256(VERIFIER),
    state="st",
    nonce="n-0S6_WzA2Mj",
    resource="https://api.example.com",
)
USER = "6f1c0b0e-3c1a-4d0b-9a65-7d6c2b8e4f10"
SID = "s" * 43

Issue = Callable[[], Awaitable[str]]


@pytest.fixture
def codes(backends: Backends, clock: FixedClock) -> AuthorizationCodes:
    return AuthorizationCodes(backends.codes, clock, ttl_seconds=60)


@pytest.fixture
def issue(codes: AuthorizationCodes, clock: FixedClock) -> Issue:
    async def issue() -> str:
        return await codes.issue(REQUEST, user_id=USER, session_id=SID, auth_time=clock.now() - 5)

    return issue


async def redeem(codes: AuthorizationCodes, code: str, **changes: str | None) -> RedeemResult:
    args: dict[str, str | None] = {
        "client_id": CLIENT.client_id,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **changes,
    }
    return await codes.redeem(
        code,
        client_id=args["client_id"] or "",
        redirect_uri=args["redirect_uri"],
        code_verifier=args["code_verifier"],
        grant_id=changes.get("grant_id"),
    )


async def test_a_code_is_256_random_bits_stored_only_as_its_digest__rfc6749_10_10(
    issue: Issue, backends: Backends, clock: FixedClock
) -> None:
    code = await issue()
    assert looks_like_secret(code)  # 43 base64url characters: 256 bits
    assert await issue() != code
    # The store knows the digest; the code itself was never handed to it.
    tomb = await backends.codes.consume(
        digest(code), grant_id="g", now=clock.now(), tombstone_seconds=60
    )
    assert tomb is not None
    assert code not in repr(tomb)


async def test_a_redeemed_code_carries_its_whole_binding(
    issue: Issue, codes: AuthorizationCodes, clock: FixedClock
) -> None:
    code = await issue()
    result = await redeem(codes, code)
    assert isinstance(result, Redeemed)
    record = result.code
    assert (record.client_id, record.redirect_uri, record.code_challenge) == (
        CLIENT.client_id,
        REDIRECT,
        s256(VERIFIER),
    )
    assert (record.user_id, record.session_id, record.nonce, record.resource) == (
        USER,
        SID,
        "n-0S6_WzA2Mj",
        "https://api.example.com",
    )
    assert record.scopes == ("openid", "profile")
    assert record.auth_time == pytest.approx(clock.now() - 5)
    assert record.expires_at == pytest.approx(clock.now() + 60)
    assert result.grant_id


async def test_redeem_uses_the_grant_id_it_is_given(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    result = await redeem(codes, await issue(), grant_id="family-1")
    assert isinstance(result, Redeemed)
    assert result.grant_id == "family-1"


async def test_a_code_is_single_use__rfc6749_4_1_2(issue: Issue, codes: AuthorizationCodes) -> None:
    code = await issue()
    assert isinstance(await redeem(codes, code), Redeemed)
    assert not isinstance(await redeem(codes, code), Redeemed)


async def test_of_20_concurrent_redemptions_exactly_one_succeeds__rfc6749_4_1_2(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    code = await issue()
    results = await asyncio.gather(*(redeem(codes, code) for _ in range(20)))
    winners = [r for r in results if isinstance(r, Redeemed)]
    assert len(winners) == 1
    # Every loser was a valid redemption too: each learns which grant to revoke.
    losers = [r for r in results if not isinstance(r, Redeemed)]
    assert all(isinstance(r, AlreadyRedeemed) for r in losers)
    assert {r.grant_id for r in losers if isinstance(r, AlreadyRedeemed)} == {winners[0].grant_id}


async def test_reused_code_names_the_grant_to_revoke__rfc6749_4_1_2(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    code = await issue()
    first = await redeem(codes, code)
    assert isinstance(first, Redeemed)
    second = await redeem(codes, code)
    assert isinstance(second, AlreadyRedeemed)
    assert second.grant_id == first.grant_id
    assert isinstance(second.as_error(), InvalidGrant)


async def test_a_grant_named_after_issuance_is_the_one_revoked__decision_2(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    code = await issue()
    assert isinstance(await redeem(codes, code), Redeemed)
    assert await codes.mark_redeemed(code, "refresh-family-42")
    second = await redeem(codes, code)
    assert isinstance(second, AlreadyRedeemed)
    assert second.grant_id == "refresh-family-42"


async def test_mark_redeemed_of_a_live_or_unknown_code_is_refused(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    assert not await codes.mark_redeemed(await issue(), "g")
    assert not await codes.mark_redeemed("not a code", "g")


INVALID_REPLAYS = {
    "another client__oauth21_7_5_2": {"client_id": new_client_id()},
    "another redirect_uri__oauth21_7_5_2": {"redirect_uri": "https://app.example.com/cb"},
    "another loopback port__oauth21_7_5_2": {"redirect_uri": "http://127.0.0.1:1/cb"},
    "no redirect_uri__oauth21_7_5_2": {"redirect_uri": None},
    "a wrong verifier__oauth21_7_5_2": {"code_verifier": "x" * 43},
    "no verifier__oauth21_7_5_2": {"code_verifier": None},
}


@pytest.mark.parametrize("changes", INVALID_REPLAYS.values(), ids=list(INVALID_REPLAYS))
async def test_a_replay_with_invalid_parameters_revokes_nothing(
    issue: Issue, codes: AuthorizationCodes, changes: dict[str, str | None]
) -> None:
    code = await issue()
    assert isinstance(await redeem(codes, code), Redeemed)
    replay = await redeem(codes, code, **changes)
    assert isinstance(replay, Invalid)  # no grant id: the caller has nothing to revoke
    assert isinstance(replay.as_error(), InvalidGrant)


WRONG_FIRST_REDEMPTIONS = {
    "another client__rfc6749_4_1_3": {"client_id": new_client_id()},
    "another redirect_uri__rfc6749_4_1_3": {"redirect_uri": "https://app.example.com/cb"},
    "the registered loopback URI without the port asked for__rfc6749_4_1_3": {
        "redirect_uri": "http://127.0.0.1/cb"
    },
    "no redirect_uri__rfc6749_4_1_3": {"redirect_uri": None},
    "a wrong verifier__rfc7636_4_6": {"code_verifier": "x" * 43},
    "no verifier__rfc7636_4_6": {"code_verifier": None},
    "the challenge sent as the verifier__rfc7636_4_6": {"code_verifier": s256(VERIFIER)},
}


@pytest.mark.parametrize(
    "changes", WRONG_FIRST_REDEMPTIONS.values(), ids=list(WRONG_FIRST_REDEMPTIONS)
)
async def test_a_first_redemption_with_a_wrong_binding_is_invalid_grant_and_spends_the_code(
    issue: Issue, codes: AuthorizationCodes, changes: dict[str, str | None]
) -> None:
    code = await issue()
    result = await redeem(codes, code, **changes)
    assert isinstance(result, Invalid)
    assert result.as_error().error == "invalid_grant"
    assert not isinstance(await redeem(codes, code), Redeemed)  # single use, all the same


async def test_an_expired_code_is_invalid_grant__rfc6749_4_1_2(
    backend: str, backends: Backends, clock: FixedClock
) -> None:
    codes = AuthorizationCodes(backends.codes, clock, ttl_seconds=1)
    code = await codes.issue(REQUEST, user_id=USER, session_id=SID, auth_time=clock.now())
    clock.advance(1.2)
    if backend == "redis":
        await asyncio.sleep(1.2)  # Redis expires the key in real time
    result = await redeem(codes, code)
    assert isinstance(result, Invalid)
    assert result.as_error().error == "invalid_grant"


async def test_a_code_within_its_lifetime_is_redeemed__rfc6749_4_1_2(
    issue: Issue, codes: AuthorizationCodes, clock: FixedClock
) -> None:
    code = await issue()
    clock.advance(59)
    assert isinstance(await redeem(codes, code), Redeemed)


UNKNOWN_CODES = {
    "a well-formed code never issued": "A" * 43,
    "an empty code": "",
    "a code of the wrong shape": "not-a-code",
    "a code with a trailing space": "A" * 43 + " ",
}


@pytest.mark.parametrize("code", UNKNOWN_CODES.values(), ids=list(UNKNOWN_CODES))
async def test_an_unknown_code_is_invalid(codes: AuthorizationCodes, code: str) -> None:
    assert isinstance(await redeem(codes, code), Invalid)


async def test_every_refusal_reads_alike_to_the_client(
    issue: Issue, codes: AuthorizationCodes
) -> None:
    spent = await issue()
    await redeem(codes, spent)
    results = [
        await redeem(codes, "A" * 43),
        await redeem(codes, await issue(), code_verifier="x" * 43),
        await redeem(codes, spent),
        await redeem(codes, spent, client_id=new_client_id()),
    ]
    errors = [r.as_error() for r in results if isinstance(r, Invalid | AlreadyRedeemed)]
    assert len(errors) == 4
    assert len({(e.error, e.description) for e in errors}) == 1


@pytest.mark.parametrize("ttl", [0, 601])
def test_a_code_lifetime_beyond_bounds_is_refused__rfc6749_4_1_2(
    clock: FixedClock, ttl: int
) -> None:
    with pytest.raises(ValueError, match="seconds"):
        AuthorizationCodes(None, clock, ttl_seconds=ttl)  # type: ignore[arg-type]


def test_codes_live_60_seconds_by_default__asvs_10_4_3() -> None:
    assert load_settings(environ={}).code_ttl == 60
    assert load_settings(environ={"GATEPASS_CODE_TTL": "5"}).code_ttl == 5


@pytest.mark.parametrize("ttl", ["0", "601", "-1", "a minute"])
def test_gatepass_code_ttl_beyond_bounds_fails_at_start(ttl: str) -> None:
    with pytest.raises(ConfigError, match="GATEPASS_CODE_TTL"):
        load_settings(environ={"GATEPASS_CODE_TTL": ttl})
