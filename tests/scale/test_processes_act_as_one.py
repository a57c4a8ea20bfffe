"""Three `gatepass serve` processes on one PostgreSQL and one Redis behave as one server
(docs/operations.md, "Several processes and hosts"): a login made on one is signed in on
all; whatever one revokes, every process and every verifier refuses; a key rotated from
the CLI of any host switches every process and every verifier, on real time.

    browser ─► A: log in ─► cookie ─► B, C: signed in
    browser ─► B: log out everywhere ─► A: cookie refused; B: A's refresh token refused;
               TokenVerifier (Redis feed, B's JWKS) and (C's HTTP feed, C's JWKS): refused
    `gatepass key rotate` (B's host) ─► lead (JWKS max-age + key refresh): A, B, C sign
               with the old keys ─► then each signs with the new ones; what any one signs
               is accepted by all and by TokenVerifiers holding a pre-rotation JWKS; the
               old keys' tokens still verify, and the old keys outlive them
"""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gatepass.resource import (
    HttpRevocationFeed,
    JwksCache,
    RedisRevocationFeed,
    RevocationSet,
    TokenRejected,
    TokenVerifier,
)
from tests.live_server import LiveServer
from tests.oauth_client import App
from tests.scale.processes import (
    HTTP_SECONDS,
    JWKS_MAX_AGE,
    KEY_REFRESH_SECONDS,
    Browser,
    Processes,
    app_tokens,
    browser,
    introspect,
    new_email,
    refresh,
    register_app,
    userinfo,
)
from tests.support import REDIS_URL

FEED_SECONDS = 15.0  # bounds on waiting for a feed; never asserted on
# A bound on waiting for a process to sign with a rotated-in key once it is due (it
# re-reads the ring at that moment); generous for a slow machine, never asserted on.
SWITCH_SECONDS = 60.0
LOGGED_IN = "(this session)"  # the account page marks the session it is read with
REVOKE_BUTTON = 'action="/account/sessions/revoke"'  # one per session listed


@pytest.fixture(scope="module")
def app(three: Processes) -> App:
    """One app for every test (each with its own user): a CLI start is seconds here."""
    return register_app(three.servers[0])


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "==="))
    return claims


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))
    kid: str = header["kid"]
    return kid


def signed_out(answer: httpx.Response) -> bool:
    """Whether a page answered as to a visitor without a session: off to the login page."""
    return bool(answer.status_code == 303 and answer.headers["location"].startswith("/login"))


async def test_a_login_on_one_process_is_signed_in_on_every_other(three: Processes) -> None:
    a, b, c = three.servers
    email = new_email()
    async with browser(three) as laptop, browser(three) as phone:
        await laptop.sign_up(c, email)  # the account and a first session, made on C
        logged_in = await phone.log_in(a, email)  # the login form, CSRF and all, on A
        assert logged_in.status_code == 303, logged_in.text
        assert phone.session is not None
        assert phone.session != laptop.session
        for server in (b, c):
            page = await phone.get(server, "/account")
            assert page.status_code == 200, page.text
            assert email in page.text
            # Both sessions, made on two processes, listed by a third; this one marked.
            assert page.text.count(REVOKE_BUTTON) == 2
            assert page.text.count(LOGGED_IN) == 1


async def test_logging_out_on_one_process_ends_the_session_on_every_other(
    three: Processes,
) -> None:
    a, b, c = three.servers
    async with browser(three) as laptop:
        await laptop.sign_up(a, new_email())
        cookie = laptop.session
        assert cookie is not None
        # The form's CSRF token comes from A's page, the logout goes to B.
        ended = await laptop.submit(b, "/logout", {}, page="/account", page_on=a)
        assert ended.status_code == 303
    # The browser forgot the cookie; a copy of it (a thief's) is refused at once, anywhere.
    async with browser(three, gp_session=cookie) as thief:
        for server in (a, b, c):
            assert signed_out(await thief.get(server, "/account"))


@asynccontextmanager
async def verifier_through(
    server: LiveServer, three: Processes, revocations: RevocationSet | None = None
) -> AsyncIterator[TokenVerifier]:
    """An API's verifier of the issuer's tokens that reads the keys `server` publishes."""
    keys = JwksCache(three.issuer, jwks_uri=f"{server.url}/jwks.json")
    try:
        async with TokenVerifier(
            three.issuer, three.audience, jwks=keys, revocations=revocations
        ) as verifier:
            yield verifier
    finally:
        await keys.aclose()


@asynccontextmanager
async def two_apis(three: Processes, app: App) -> AsyncIterator[tuple[TokenVerifier, ...]]:
    """Two resource servers: one on the Redis feed with B's JWKS, one on C's HTTP feed
    (`/revocations/stream`, read from the SQL log) with C's JWKS; both caught up."""
    _, b, c = three.servers
    over_redis, over_http = RevocationSet(), RevocationSet()
    prefix = three.settings["GATEPASS_REDIS_PREFIX"]
    async with AsyncExitStack() as stack:
        for feed in (
            RedisRevocationFeed(REDIS_URL, over_redis, prefix),
            HttpRevocationFeed(c.url, app.client_id, app.secret, over_http),
        ):
            await stack.enter_async_context(feed)
            assert await feed.wait_ready(FEED_SECONDS), f"{type(feed).__name__} not ready"
        yield (
            await stack.enter_async_context(verifier_through(b, three, over_redis)),
            await stack.enter_async_context(verifier_through(c, three, over_http)),
        )


async def refused_within(verifier: TokenVerifier, token: str, seconds: float) -> bool:
    """Whether `verifier` refuses `token` within `seconds` (asked every 20 ms)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await verifier.verify(token)
        except TokenRejected:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)


async def test_log_out_everywhere_on_one_process_refuses_what_the_others_issued(
    three: Processes, app: App
) -> None:
    a, b, c = three.servers
    email = new_email()
    async with (
        browser(three) as laptop,
        browser(three) as phone,
        two_apis(three, app) as apis,
    ):
        await laptop.sign_up(a, email)
        assert (await phone.log_in(c, email)).status_code == 303
        issued = await app_tokens(laptop, a, app)  # the app's tokens, all from A
        access, refresh_token = issued["access_token"], issued["refresh_token"]
        user = claims_of(access)["sub"]
        for api in apis:
            assert (await api.verify(access)).subject == user
        assert (await userinfo(b, access)).json()["sub"] == user

        everywhere = await laptop.submit(b, "/account/logout-everywhere", {}, page="/account")
        assert signed_out(everywhere)

        # Sessions and refresh tokens live in the shared stores: refused at once, anywhere.
        assert signed_out(await phone.get(a, "/account"))
        assert signed_out(await phone.get(c, "/account"))
        for server in (b, a):
            refreshed = await refresh(server, app, refresh_token)
            assert refreshed.status_code == 400, refreshed.text
            assert refreshed.json()["error"] == "invalid_grant"
        # The processes read the revocation log: the access token is dead at each of them.
        for server in (a, b, c):
            assert (await userinfo(server, access)).status_code == 401
            assert (await introspect(server, app, access)) == {"active": False}
        # The APIs hear of it through their feeds: Redis (written by B), C's HTTP stream.
        for api in apis:
            assert await refused_within(api, access, FEED_SECONDS)


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass(frozen=True)
class Rotation:
    """One `gatepass key rotate`: the key it replaces and the one it schedules."""

    old_kid: str
    new_kid: str
    active_at: float  # to the second, as the command prints it

    def signed_by_the_right_key(self, token: str) -> bool:
        """Whether the key that signed `token` is the one that had to sign at its `iat`:
        the old key before `active_at`, the new one from then on. Whole seconds: a token
        of the very second of the switch may carry either."""
        issued_at, kid = claims_of(token)["iat"], kid_of(token)
        if kid == self.new_kid:
            return bool(issued_at >= self.active_at)
        return kid == self.old_kid and issued_at <= self.active_at


def rotate_on(server: LiveServer, alg: str, current: str) -> Rotation:
    rotated = json.loads(server.cli("key", "rotate", "--alg", alg, "--json"))
    assert rotated["state"] == "next"
    published_at, active_at = timestamp(rotated["published_at"]), timestamp(rotated["active_at"])
    # The lead covers a process's re-read of the ring and a verifier's JWKS cache.
    assert active_at - published_at == pytest.approx(JWKS_MAX_AGE + KEY_REFRESH_SECONDS, abs=1)
    return Rotation(current, rotated["kid"], active_at)


async def switched_tokens(
    laptop: Browser, server: LiveServer, app: App, rotations: tuple[Rotation, Rotation]
) -> dict[str, Any]:
    """Tokens `server` issues once both rotations have taken effect there, asked for
    every half second until then (or SWITCH_SECONDS past the switch: never asserted on
    as a time); each one seen on the way signed by the key its `iat` called for."""
    access, ids = rotations
    deadline = max(access.active_at, ids.active_at) + SWITCH_SECONDS
    while True:
        issued = await app_tokens(laptop, server, app)
        assert access.signed_by_the_right_key(issued["access_token"])
        assert ids.signed_by_the_right_key(issued["id_token"])
        kids = (kid_of(issued["access_token"]), kid_of(issued["id_token"]))
        if kids == (access.new_kid, ids.new_kid):
            return issued
        assert time.time() < deadline, f"{server.url} still signs with {kids}"
        await asyncio.sleep(0.5)


async def jwks_of(server: LiveServer) -> KeySet:
    async with httpx.AsyncClient(timeout=HTTP_SECONDS) as http:
        answer = await http.get(server.url + "/jwks.json")
    assert answer.status_code == 200
    return KeySet.import_key_set(answer.json())


def id_token_verifies(token: str, keys: KeySet, three: Processes, app: App) -> bool:
    """Whether an independent JOSE library verifies the id token with `keys` (RS256 only)."""
    try:
        decoded = joserfc_jwt.decode(token, keys, algorithms=["RS256"])
    except JoseError:
        return False
    return bool(decoded.claims["iss"] == three.issuer and decoded.claims["aud"] == app.client_id)


async def test_a_key_rotated_from_the_cli_of_one_host_switches_every_process_and_verifier(
    three: Processes, app: App
) -> None:
    a, b, c = three.servers
    async with browser(three) as laptop, AsyncExitStack() as stack:
        await laptop.sign_up(a, new_email())
        before = await app_tokens(laptop, a, app)
        old_access, old_id = before["access_token"], before["id_token"]
        # An API per process, each holding that process's JWKS from before the rotation.
        apis = [await stack.enter_async_context(verifier_through(s, three)) for s in (a, b, c)]
        for api in apis:
            assert (await api.verify(old_access)).jti == claims_of(old_access)["jti"]

        # On B's host, the access-token key (ES256) and the id-token key (RS256).
        rotations = (
            rotate_on(b, "ES256", kid_of(old_access)),
            rotate_on(b, "RS256", kid_of(old_id)),
        )
        # Until the switch the processes sign as before; each token by the key of its time.
        for server in (a, b, c):
            during = await app_tokens(laptop, server, app)
            assert rotations[0].signed_by_the_right_key(during["access_token"])
            assert rotations[1].signed_by_the_right_key(during["id_token"])

        await asyncio.sleep(max(0.0, max(r.active_at for r in rotations) - time.time()))
        hosts = (a, b, c)
        after = [await switched_tokens(laptop, server, app, rotations) for server in hosts]
        published = [await jwks_of(server) for server in hosts]
        for issued in after:
            access, id_token = issued["access_token"], issued["id_token"]
            user = claims_of(access)["sub"]
            # Every process accepts what any one signed with its new key ...
            for server, keys in zip(hosts, published, strict=True):
                assert (await userinfo(server, access)).json()["sub"] == user
                assert (await introspect(server, app, access))["active"] is True
                assert id_token_verifies(id_token, keys, three, app)
            # ... and so does every API, though it fetched the JWKS before the rotation.
            for api in apis:
                assert (await api.verify(access)).jti == claims_of(access)["jti"]

        # Tokens signed with the old keys keep verifying everywhere after the switch ...
        for server, keys in zip(hosts, published, strict=True):
            assert (await userinfo(server, old_access)).status_code == 200
            assert (await introspect(server, app, old_access))["active"] is True
            assert id_token_verifies(old_id, keys, three, app)
        for api in apis:
            assert (await api.verify(old_access)).jti == claims_of(old_access)["jti"]
        # ... for as long as they live: the old keys stay published past their expiry.
        listed = {key["kid"]: key for key in json.loads(c.cli("key", "list", "--json"))}
        for rotation, token in zip(rotations, (old_access, old_id), strict=True):
            old = listed[rotation.old_kid]
            assert old["state"] == "retiring"
            assert timestamp(old["expires_at"]) > claims_of(token)["exp"]
