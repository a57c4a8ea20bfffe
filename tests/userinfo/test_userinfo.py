"""/userinfo (OIDC Core §5.3) with tokens minted from the app's own keys, every backend:
claims by scope, and every token or request it must refuse (RFC 6750, RFC 9068 §4)."""

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from gatepass.accounts.model import User
from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Settings
from gatepass.keys.ring import KeyRing
from gatepass.storage.backends import Backends
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.revocations import SqlRevocationStore
from gatepass.storage.sql.users import SqlUserStore
from gatepass.tokens.revocation_event import RevocationKind
from gatepass.web.app import build_id_tokens
from tests.support import web_client
from tests.tokens.support import KEYS, b64, payload_of, pem
from tests.userinfo.conftest import PATH, Mint, ask, assert_refused, bearer, challenge_of

METHODS = ("GET", "POST")
INVALID = "The access token is invalid, expired or revoked."


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (("openid",), {"sub"}),
        (("openid", "email"), {"sub", "email", "email_verified"}),
        (("openid", "profile"), {"sub", "name"}),
        (("openid", "profile", "email"), {"sub", "email", "email_verified", "name"}),
        (("openid", "offline_access", "photos.read"), {"sub"}),
    ],
    ids=[
        "openid alone releases only sub",
        "email releases email and email_verified",
        "profile releases name",
        "profile and email release both",
        "other scopes release nothing more",
    ],
)
async def test_each_scope_releases_its_claims__oidc_core_5_4(
    method: str,
    scope: tuple[str, ...],
    expected: set[str],
    mint: Mint,
    user: User,
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, method, await mint(scope=scope))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["pragma"] == "no-cache"
    assert "set-cookie" not in response.headers
    claims = response.json()
    assert set(claims) == expected
    assert claims["sub"] == user.id
    if "email" in expected:
        assert claims["email"] == user.email
        # gatepass does not verify addresses yet: it never says one is verified.
        assert claims["email_verified"] is False
    if "name" in expected:
        assert claims["name"] == user.name


async def test_an_empty_name_is_omitted_not_sent_empty__oidc_core_5_3_2(
    mint: Mint, backends: Backends, client: httpx.AsyncClient
) -> None:
    now = time.time()
    nameless = User(str(uuid.uuid4()), "nn@example.com", "", None, False, now, now)
    await backends.users.add(nameless)
    token = await mint(scope=("openid", "profile"), subject=nameless.id)
    assert (await ask(client, "GET", token)).json() == {"sub": nameless.id}


async def test_the_challenge_has_realm_error_and_description__rfc6750_3(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint(audience="https://photos.example.com")
    response = await ask(client, "GET", token)
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="{settings.issuer}", error="invalid_token", error_description="{INVALID}"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": INVALID}


# ---- tokens that are not acceptable: 401 invalid_token, one answer whatever the reason


async def _id_token(settings: Settings, ring: KeyRing, user: User) -> str:
    ids = build_id_tokens(settings, ring, SystemClock())
    # Even addressed to the access tokens' audience, an id token is no access token.
    audience = settings.access_token_audience
    return await ids.issue(client_id=audience, alg="ES256", subject=user.id, auth_time=time.time())


def _forge(header: dict[str, str], payload: dict[str, object], signature: str = "") -> str:
    return f"{b64(header)}.{b64(payload)}.{signature}"


async def _hmac_with_public_key(ring: KeyRing, token: str, alg: str) -> str:
    """RFC 8725 §2.1: HS256 keyed with the published public key of `alg`'s key."""
    key = await ring.signing_key(alg)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = f"{b64(header)}.{b64(payload_of(token))}"
    mac = hmac.new(pem(key, private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "case",
    [
        "id token",
        "expired",
        "other audience",
        "tampered payload",
        "alg none",
        "alg none with a signature",
        "HS256 keyed with the RS256 public key",
        "HS256 keyed with the ES256 public key",
        "other issuer's key",
        "not a JWT",
    ],
)
async def test_a_token_that_fails_verification_is_invalid_token_401__rfc6750_3_1_rfc9068_4(
    case: str,
    method: str,
    mint: Mint,
    ring: KeyRing,
    user: User,
    settings: Settings,
    backends: Backends,
    client: httpx.AsyncClient,
) -> None:
    good = await mint(scope=("openid", "email"))
    header = {"alg": "none", "typ": "at+jwt", "kid": (await ring.signing_key("ES256")).kid}
    if case == "id token":
        token = await _id_token(settings, ring, user)
    elif case == "expired":
        past = FixedClock(time.time() - 2 * settings.access_token_ttl)
        token = await mint(clock=past)
    elif case == "other audience":
        # RFC 8707: a token for another resource is that API's alone (docs/tokens.md).
        token = await mint(audience="https://photos.example.com")
    elif case == "tampered payload":
        other = User(str(uuid.uuid4()), "eve@example.com", "Eve", None, False, 0.0, 0.0)
        await backends.users.add(other)
        first, _, signature = good.split(".")
        token = f"{first}.{b64(payload_of(good) | {'sub': other.id})}.{signature}"
    elif case == "alg none":
        token = _forge(header, payload_of(good))
    elif case == "alg none with a signature":
        token = _forge(header, payload_of(good), b64(b"x" * 32))
    elif case.startswith("HS256"):
        token = await _hmac_with_public_key(ring, good, case.split()[-3])
    elif case == "other issuer's key":
        stranger = KEYS["ES256"]  # a key this server never published
        forged_header = {"alg": "ES256", "typ": "at+jwt", "kid": stranger.kid}
        token = _forge(forged_header, payload_of(good), "c2ln")
    else:
        token = "opaque-not-a-jwt"

    response = await ask(client, method, token)

    assert_refused(response, 401, "invalid_token", settings)
    # One answer for every reason: which check failed is only in the log.
    assert response.json()["error_description"] == INVALID
    assert "email" not in response.text


async def test_a_revoked_grant_ends_its_tokens_at_userinfo__rfc6749_4_1_2(
    mint: Mint, backends: Backends, client: httpx.AsyncClient, settings: Settings
) -> None:
    gid = uuid.uuid4().hex
    token = await mint(grant_id=gid)
    other = await mint(grant_id=uuid.uuid4().hex)
    assert (await ask(client, "GET", token)).status_code == 200
    now = time.time()
    assert await backends.revocations.add(RevocationKind.GRANT, gid, at=now, until=now + 3600)

    assert_refused(await ask(client, "GET", token), 401, "invalid_token", settings)
    assert_refused(await ask(client, "POST", token), 401, "invalid_token", settings)
    # Only that grant: another grant of the same user still reads its claims.
    assert (await ask(client, "GET", other)).status_code == 200


async def test_a_revoked_access_token_is_refused_and_only_that_one(
    mint: Mint, backends: Backends, client: httpx.AsyncClient, settings: Settings
) -> None:
    token, sibling = await mint(), await mint()
    now = time.time()
    jti = payload_of(token)["jti"]
    assert await backends.revocations.add(RevocationKind.TOKEN, jti, at=now, until=now + 900)

    assert_refused(await ask(client, "GET", token), 401, "invalid_token", settings)
    assert (await ask(client, "GET", sibling)).status_code == 200


async def test_a_subject_not_before_kills_older_tokens_not_newer_ones(
    mint: Mint, user: User, backends: Backends, client: httpx.AsyncClient, settings: Settings
) -> None:
    now = time.time()
    older = await mint(clock=FixedClock(now - 120))  # still within its 900 s
    not_before = now - 60
    assert await backends.revocations.set_not_before(user.id, at=not_before, until=now + 3600)

    assert_refused(await ask(client, "GET", older), 401, "invalid_token", settings)
    # Issued after the not-before time (a new login): accepted.
    assert (await ask(client, "GET", await mint())).status_code == 200
    # Another user's tokens of the same age are untouched.
    other = User(str(uuid.uuid4()), "other@example.com", "Other", None, False, now, now)
    await backends.users.add(other)
    older_other = await mint(subject=other.id, clock=FixedClock(now - 120))
    assert (await ask(client, "GET", older_other)).status_code == 200


async def test_a_disabled_user_is_refused_at_once__asvs_7_4_2(
    mint: Mint, user: User, backends: Backends, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint()
    assert (await ask(client, "GET", token)).status_code == 200
    await backends.users.update(user.id, now=time.time(), disabled=True)
    assert_refused(await ask(client, "GET", token), 401, "invalid_token", settings)
    await backends.users.update(user.id, now=time.time(), disabled=False)
    assert (await ask(client, "GET", token)).status_code == 200


async def test_a_deleted_user_is_refused(
    mint: Mint, user: User, backends: Backends, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint(scope=("openid", "email"))
    assert await backends.users.delete(user.id)
    response = await ask(client, "GET", token)
    assert_refused(response, 401, "invalid_token", settings)
    assert user.email not in response.text


@pytest.mark.parametrize("method", METHODS)
async def test_a_token_without_openid_is_insufficient_scope_403__rfc6750_3_1(
    method: str, mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await ask(client, method, await mint(scope=("profile", "email")))
    params = assert_refused(response, 403, "insufficient_scope", settings)
    assert params["scope"] == "openid"
    assert "ada@example.com" not in response.text


# ---- where the token travels: the Authorization header, and only there (R23)


async def test_a_token_only_in_the_query_is_ignored_no_credentials__r23_oauth21_5_1(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint()
    for method in METHODS:
        response = await ask(client, method, None, params={"access_token": token})
        # RFC 6750 §3.1: no credentials at all, so no error code either.
        assert_refused(response, 401, None, settings)


async def test_a_token_only_in_the_form_body_is_ignored_no_credentials__r23(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await ask(client, "POST", None, data={"access_token": await mint()})
    assert_refused(response, 401, None, settings)


async def test_no_authorization_header_gets_a_bare_challenge__rfc6750_3_1(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for method in METHODS:
        response = await ask(client, method, None)
        assert response.headers["www-authenticate"] == f'Bearer realm="{settings.issuer}"'
        assert_refused(response, 401, None, settings)


@pytest.mark.parametrize(
    "where", ["query", "body"], ids=["header and query", "header and form body"]
)
async def test_a_token_sent_two_ways_is_invalid_request_400__rfc6750_2(
    where: str, mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint()
    if where == "query":
        response = await ask(client, "GET", token, params={"access_token": token})
    else:
        response = await ask(client, "POST", token, data={"access_token": token})
    assert_refused(response, 400, "invalid_request", settings)


async def test_an_empty_access_token_parameter_counts_as_omitted__r22(
    mint: Mint, client: httpx.AsyncClient
) -> None:
    token = await mint()
    assert (await ask(client, "GET", token, params={"access_token": ""})).status_code == 200
    assert (await ask(client, "POST", token, data={"access_token": ""})).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status", "error"),
    [
        ("Bearer", 400, "invalid_request"),
        ("Bearer a b", 400, "invalid_request"),
        ('Bearer "quoted"', 400, "invalid_request"),
        ("Bearer " + "a" * 9000, 400, "invalid_request"),
        ("Basic eHl6OnNlY3JldA==", 401, None),
        ("Basic xyz", 401, None),
    ],
    ids=[
        "the scheme without a token",
        "two tokens",
        "a quoted token",
        "an oversized token",
        "Basic credentials are no bearer credentials",
        "Basic with junk is no bearer credentials either",
    ],
)
async def test_a_malformed_or_foreign_authorization_header__rfc6750_3_1(
    authorization: str,
    status: int,
    error: str | None,
    client: httpx.AsyncClient,
    settings: Settings,
) -> None:
    for method in METHODS:
        response = await ask(client, method, None, headers={"Authorization": authorization})
        assert_refused(response, status, error, settings)


async def test_two_authorization_headers_are_invalid_request(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await mint()
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    response = await client.get(PATH, headers=headers)
    assert_refused(response, 400, "invalid_request", settings)


async def test_a_header_past_the_cap_is_431_not_500(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH, headers={"Authorization": "Bearer " + "a" * 20_000})
    assert response.status_code == 431


async def test_the_scheme_is_case_insensitive__rfc9110_11_1(
    mint: Mint, client: httpx.AsyncClient
) -> None:
    token = await mint()
    for scheme in ("bearer", "BEARER"):
        response = await client.get(PATH, headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, scheme


# ---- POST bodies


async def test_an_oversized_post_body_is_413(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    body = b"x=" + b"a" * settings.max_body_bytes
    response = await client.post(
        PATH,
        content=body,
        headers={**bearer(await mint()), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


async def test_an_oversized_streamed_post_body_is_413_invalid_request(
    mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"a" * 1024

    response = await client.post(PATH, content=chunks(), headers=bearer(await mint()))
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [b"a=1&a=2", b"name=\xff\xfe", b"x=%00"],
    ids=["a repeated field", "not UTF-8", "a NUL character"],
)
async def test_a_malformed_form_body_is_400_invalid_request(
    body: bytes, mint: Mint, client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await ask(
        client,
        "POST",
        await mint(),
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_refused(response, 400, "invalid_request", settings)


async def test_a_post_body_of_another_type_is_ignored(
    mint: Mint, client: httpx.AsyncClient
) -> None:
    response = await ask(
        client,
        "POST",
        await mint(),
        content=b'{"access_token": "ignored"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert set(response.json()) == {"sub"}


async def test_other_methods_are_405(mint: Mint, client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await client.request(method, PATH, headers=bearer(await mint()))
        assert response.status_code == 405, method


# ---- storage down: fail closed


async def test_storage_down_is_503_with_retry_after_never_500__security_decision_3(
    mint: Mint, settings: Settings, backends: Backends
) -> None:
    token = await mint(grant_id=uuid.uuid4().hex)
    dead = create_engine("postgresql://gatepass@127.0.0.1:1/gatepass")  # nothing listens
    broken = replace(backends, users=SqlUserStore(dead), revocations=SqlRevocationStore(dead))
    try:
        async with web_client(settings, broken) as http:
            response = await ask(http, "GET", token)
    finally:
        await dead.dispose()
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"] == "temporarily_unavailable"


# ---- discovery


async def test_discovery_advertises_the_userinfo_endpoint__oidc_discovery_3(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    doc = (await client.get("/.well-known/openid-configuration")).json()
    assert doc["userinfo_endpoint"] == f"{settings.issuer}/userinfo"
    assert {"sub", "email", "email_verified", "name"} <= set(doc["claims_supported"])


def test_challenge_parser_reads_what_the_server_writes() -> None:
    response = httpx.Response(
        401, headers={"WWW-Authenticate": 'Bearer realm="r", error="e", error_description="d"'}
    )
    assert challenge_of(response) == {"realm": "r", "error": "e", "error_description": "d"}
