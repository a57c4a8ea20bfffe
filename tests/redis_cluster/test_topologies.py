"""The whole app and the resource toolkit on a Redis Cluster and behind Sentinel.

Sign-up, login, logout and "log out everywhere" through the real app; the toolkit's
SessionVerifier reading the sessions the app wrote; the revocation feed live and catching
up. That no transaction or script spans two slots (docs/redis.md) is checked by the
cluster itself: it refuses one with CROSSSLOT, so every suite here and the borrowed
contract suites would fail.
"""

import time
import uuid

import httpx
from redis.asyncio import Redis, RedisCluster
from tests.resource.feed_support import WAIT_SECONDS, eventually, facts
from tests.support import log_in, web_client
from tests.web.conftest import is_signed_in, log_out, session_set_by, sign_up_as

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.resource.feeds import RedisRevocationFeed
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.resource.sessions import SessionRejected, SessionVerifier
from gatepass.storage.backends import Backends
from gatepass.web.app import build_revocations

FAST = {"heartbeat_seconds": 0.5, "min_backoff": 0.05, "max_backoff": 0.2}


async def test_sign_up_log_in_and_log_out_through_the_app(
    settings: Settings, backends: Backends, client: httpx.AsyncClient
) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    await sign_up_as(client, email)
    assert await is_signed_in(client)
    await log_out(client)
    assert not await is_signed_in(client)
    response = await log_in(client, email)
    assert response.status_code == 303
    secret = session_set_by(response)
    async with SessionVerifier(
        issuer=settings.issuer, redis_url=settings.redis_url, redis_prefix=settings.redis_prefix
    ) as verifier:
        verified = await verifier.verify(secret)
        assert verified.session_id == digest(secret)
        await log_out(client)
        try:
            await verifier.verify(secret)
            refused = False
        except SessionRejected:
            refused = True
    assert refused
    assert not await is_signed_in(client)


async def test_log_out_everywhere_ends_sessions_in_every_slot(
    settings: Settings, backends: Backends, client: httpx.AsyncClient
) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    await sign_up_as(client, email)
    secrets = []
    for _ in range(6):  # six digests: on three masters, several slots and nodes
        async with web_client(settings, backends) as device:
            secrets.append(session_set_by(await log_in(device, email)))
    user_id = (await backends.sessions.touch(digest(secrets[0]), time.time(), 600)).user_id  # type: ignore[union-attr]
    assert len(await backends.sessions.list_for_user(user_id, time.time(), 600)) == 7
    assert await backends.sessions.delete_for_user(user_id) == 7
    for secret in secrets:
        assert await backends.sessions.touch(digest(secret), time.time(), 600) is None
    assert not await is_signed_in(client)


async def test_the_resource_feed_hears_revocations_live_and_after_a_reconnect(
    settings: Settings, backends: Backends
) -> None:
    assert settings.redis_url is not None
    server = build_revocations(settings, backends, SystemClock())
    revocations = RevocationSet(max_gap_seconds=0, skew_seconds=0, max_token_ttl_seconds=3600)
    feed = RedisRevocationFeed(settings.redis_url, revocations, settings.redis_prefix, **FAST)
    gid, later = uuid.uuid4().hex, uuid.uuid4().hex
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        assert await server.revoke_grant(gid)
        assert await eventually(
            lambda: revocations.verdict(facts("a", gid=gid), time.time()) is Verdict.REVOKED
        )
    assert await server.revoke_grant(later)  # while the feed is away: the stream keeps it
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        assert await eventually(
            lambda: revocations.verdict(facts("b", gid=later), time.time()) is Verdict.REVOKED
        )
    assert revocations.verdict(facts("c", gid="other"), time.time()) is Verdict.ACCEPT


async def test_a_session_costs_no_more_memory_than_on_one_server(
    backends: Backends, settings: Settings, client: httpx.AsyncClient
) -> None:
    """Issue 8's budget (tests/contract/test_redis_layout.py), on this topology."""
    secret = await sign_up_as(client, f"{uuid.uuid4().hex[:10]}@example.com")
    key = f"{settings.redis_prefix}s:{digest(secret)}"
    redis = backends.redis
    assert isinstance(redis, Redis | RedisCluster)
    used = await redis.memory_usage(key)
    assert used is not None
    assert 0 < used <= 300
