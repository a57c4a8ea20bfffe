"""The logout core (oidc/logout.py) with plain inputs and a fixed clock (RP-Initiated Logout)."""

from typing import Any

import pytest

from gatepass.clock import FixedClock
from gatepass.oauth.clients import Client
from gatepass.oidc.id_tokens import IdTokenHint, IdTokenPolicy, IdTokens
from gatepass.oidc.logout import (
    MAX_HINT_LENGTH,
    MAX_VALUE_LENGTH,
    InvalidLogoutRequest,
    LogoutClient,
    LogoutParameters,
    LogoutRequest,
    is_logout_request,
    parse_logout_parameters,
    validate_logout_request,
)
from tests.tokens.support import ISSUER, KEYS, NOW, StaticKeys, b64, payload_of

BYE = "https://app.example.com/bye"
A = "gpc_" + "a" * 43
B = "gpc_" + "b" * 43


def _client(client_id: str, *post_logout: str) -> Client:
    return Client(
        client_id=client_id,
        name=f"App {client_id[4]}",
        secret_digest=None,
        redirect_uris=("https://app.example.com/cb",),
        post_logout_redirect_uris=post_logout,
        grant_types=("authorization_code",),
        scopes=("openid",),
        first_party=False,
        id_token_alg="RS256",
        created_at=NOW,
        updated_at=NOW,
    )


CLIENTS = {A: _client(A, BYE, "https://app.example.com/bye?from=gp"), B: _client(B, BYE)}


async def find(client_id: str) -> LogoutClient | None:
    return CLIENTS.get(client_id)


def id_tokens(at: float = NOW) -> IdTokens:
    return IdTokens(StaticKeys(KEYS), IdTokenPolicy(ISSUER, 300), FixedClock(at))


async def hint(client_id: str = A, **changes: Any) -> str:
    args: dict[str, Any] = {
        "client_id": client_id,
        "alg": "ES256",
        "subject": "user-1",
        "auth_time": NOW,
        "sid": "session-1",
    }
    return await id_tokens().issue(**(args | changes))


async def check(at: float = NOW, **params: str) -> LogoutRequest:
    parsed = parse_logout_parameters({name: [value] for name, value in params.items()})
    return await validate_logout_request(parsed, id_tokens=id_tokens(at), find_client=find)


# ---- parsing


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, False),
        ({"state": [""], "client_id": [""]}, False),
        ({"unrelated": ["x"]}, False),
        ({"ui_locales": ["fr"]}, True),
        ({"client_id": [A]}, True),
    ],
    ids=["nothing", "only empty values", "only unknown parameters", "a locale", "a client"],
)
def test_a_logout_request_is_one_with_any_logout_parameter_valued(
    params: dict[str, list[str]], expected: bool
) -> None:
    assert is_logout_request(params) is expected


def test_empty_values_count_as_absent_and_unknown_parameters_are_ignored() -> None:
    parsed = parse_logout_parameters({"state": [""], "client_id": [A], "foo": ["1", "2"]})
    assert parsed == LogoutParameters(client_id=A)


@pytest.mark.parametrize(
    "params",
    [
        {"state": ["a", "b"]},
        {"id_token_hint": ["x.y.z", "x.y.z"]},
        {"post_logout_redirect_uri": [BYE, BYE]},
        {"logout_hint": ["a", "b"]},
    ],
    ids=["state twice", "hint twice", "uri twice", "logout_hint twice"],
)
def test_a_repeated_parameter_is_refused__oauth21_3_1(params: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidLogoutRequest, match="repeated"):
        parse_logout_parameters(params)


@pytest.mark.parametrize(
    ("name", "length"),
    [
        ("id_token_hint", MAX_HINT_LENGTH + 1),
        ("state", MAX_VALUE_LENGTH + 1),
        ("client_id", MAX_VALUE_LENGTH + 1),
        ("post_logout_redirect_uri", MAX_VALUE_LENGTH + 1),
        ("ui_locales", MAX_VALUE_LENGTH + 1),
        ("logout_hint", MAX_VALUE_LENGTH + 1),
    ],
)
def test_an_oversized_value_is_refused(name: str, length: int) -> None:
    with pytest.raises(InvalidLogoutRequest, match="longer than"):
        parse_logout_parameters({name: ["x" * length]})


def test_locales_and_logout_hint_are_accepted_and_ignored() -> None:
    parsed = parse_logout_parameters({"ui_locales": ["fr-CA fr"], "logout_hint": ["ada"]})
    assert parsed == LogoutParameters()


# ---- validation


async def test_the_hint_names_the_client_and_the_registered_uri_comes_back_with_state__rp_3() -> (
    None
):
    checked = await check(id_token_hint=await hint(), post_logout_redirect_uri=BYE, state="s 1&")
    assert checked.client is CLIENTS[A]
    assert checked.redirect_url() == BYE + "?state=s+1%26"
    assert checked.hint == IdTokenHint("user-1", (A,), A, "session-1", NOW)


async def test_state_joins_a_query_the_registered_uri_already_has() -> None:
    uri = "https://app.example.com/bye?from=gp"
    checked = await check(client_id=A, post_logout_redirect_uri=uri, state="xyz")
    assert checked.redirect_url() == uri + "&state=xyz"


async def test_without_a_uri_there_is_no_redirect_and_state_is_dropped() -> None:
    checked = await check(client_id=A, state="xyz")
    assert (checked.redirect_url(), checked.state) == (None, None)


async def test_an_expired_hint_is_accepted__rp_initiated_logout_2() -> None:
    token = await hint()
    checked = await check(NOW + 30 * 86_400, id_token_hint=token, post_logout_redirect_uri=BYE)
    assert checked.redirect_url() == BYE


@pytest.mark.parametrize(
    "uri",
    [BYE + "/", BYE.upper(), "https://APP.example.com/bye", BYE + "?x=1", "https://evil.test/bye"],
)
async def test_a_uri_not_registered_exactly_is_never_followed__rp_3(uri: str) -> None:
    with pytest.raises(InvalidLogoutRequest, match="not registered"):
        await check(id_token_hint=await hint(), post_logout_redirect_uri=uri)


async def test_a_uri_without_a_client_to_vouch_for_it_is_refused__rp_3() -> None:
    with pytest.raises(InvalidLogoutRequest, match="client_id or id_token_hint"):
        await check(post_logout_redirect_uri=BYE, state="xyz")


async def test_client_id_must_be_the_hints_client__rp_initiated_logout_2() -> None:
    # BYE is registered for both: the mismatch alone refuses the request.
    with pytest.raises(InvalidLogoutRequest, match="another application"):
        await check(id_token_hint=await hint(A), client_id=B, post_logout_redirect_uri=BYE)
    azp_a = await hint(A, extra_audiences=[B])  # B is an audience, but A is the azp
    with pytest.raises(InvalidLogoutRequest, match="another application"):
        await check(id_token_hint=azp_a, client_id=B)
    assert (await check(id_token_hint=azp_a, client_id=A)).client is CLIENTS[A]


@pytest.mark.parametrize("client_id", ["gpc_" + "z" * 43, "not-a-client"])
async def test_an_unknown_client_is_refused(client_id: str) -> None:
    with pytest.raises(InvalidLogoutRequest, match="not registered with this server"):
        await check(client_id=client_id)
    with pytest.raises(InvalidLogoutRequest, match="not registered with this server"):
        await check(id_token_hint=await hint(client_id))


async def _hostile(case: str) -> str:
    good = await hint()
    header, payload, signature = good.split(".")
    claims = payload_of(good)
    if case == "tampered payload":
        return f"{header}.{b64(claims | {'sub': 'user-2'})}.{signature}"
    if case == "alg none":
        return f"{b64({'alg': 'none', 'kid': KEYS['ES256'].kid, 'typ': 'JWT'})}.{payload}."
    if case == "not a jwt":
        return "not-a-token"
    if case == "another issuer's token":
        other = IdTokens(StaticKeys(KEYS), IdTokenPolicy("https://evil.test", 300), FixedClock(NOW))
        return await other.issue(client_id=A, alg="ES256", subject="user-1", auth_time=NOW)
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["tampered payload", "alg none", "not a jwt", "another issuer's token"]
)
async def test_a_hint_that_fails_the_pinned_checks_is_refused(case: str) -> None:
    with pytest.raises(InvalidLogoutRequest, match="not an ID token issued by this server"):
        await check(id_token_hint=await _hostile(case), post_logout_redirect_uri=BYE)


@pytest.mark.parametrize(
    ("subject", "sid", "expected"),
    [
        ("user-1", "session-1", False),
        ("user-1", None, False),
        ("user-1", "session-0", True),
        ("user-2", "session-1", True),
    ],
    ids=["this session", "this user, no sid", "an earlier session", "another user"],
)
async def test_the_request_knows_when_its_hint_names_someone_else(
    subject: str, sid: str | None, expected: bool
) -> None:
    checked = await check(id_token_hint=await hint(subject=subject, sid=sid))
    assert checked.names_someone_else(user_id="user-1", session_id="session-1") is expected


async def test_no_hint_names_no_one_else() -> None:
    checked = await check(client_id=A)
    assert not checked.names_someone_else(user_id="user-1", session_id="session-1")


async def test_what_a_confirmation_carries_has_no_hint_and_checks_again() -> None:
    checked = await check(id_token_hint=await hint(), post_logout_redirect_uri=BYE, state="q")
    carried = checked.carried()
    assert carried == LogoutParameters(client_id=A, post_logout_redirect_uri=BYE, state="q")
    again = await validate_logout_request(carried, id_tokens=id_tokens(), find_client=find)
    assert again.redirect_url() == BYE + "?state=q"
