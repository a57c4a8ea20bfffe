"""RedisRevocationFeed (resource/feeds.py) against real Redis: revocations recorded by the
server core (`Revocations` wired as web/app.py wires it) reach a RevocationSet live and
after a stop, a trimmed stream or a Redis restart leaves a hole rather than a miss, and
with an HTTP catch-up from a live server the restart misses nothing."""

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.resource.feeds import HttpRevocationFeed, RedisRevocationFeed
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.storage.backends import Backends
from gatepass.storage.redis.revocation_feed import RedisRevocationFeed as Publisher
from gatepass.tokens.revocation import Revocations
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind
from gatepass.web.app import build_revocations
from tests import support
from tests.live_server import LiveServer, live_server
from tests.resource.feed_support import (
    WAIT_SECONDS,
    ScratchRedis,
    eventually,
    facts,
    scratch_redis,
)
from tests.support import REDIS_URL, settings_for

on_redis = pytest.mark.parametrize("backend", ["redis"])
FAST = {"heartbeat_seconds": 0.5, "min_backoff": 0.05, "max_backoff": 0.2}


def core(settings: Settings, backends: Backends) -> Revocations:
    """The server's revocation core, as web/app.py builds it (SQL log + Redis feed)."""
    return build_revocations(settings, backends, SystemClock())


def live_set(max_token_ttl_seconds: float = 3600) -> RevocationSet:
    # No grace: a loss shows at once. No skew: "issued a second before" is before.
    return RevocationSet(
        max_gap_seconds=0, skew_seconds=0, max_token_ttl_seconds=max_token_ttl_seconds
    )


async def applied(revocations: RevocationSet, core: Revocations) -> bool:
    """Whether the set has applied every event in the core's log."""
    logged = await core.since(0)
    return await eventually(lambda: revocations.cursor >= logged[-1].seq)


@on_redis
async def test_revocations_of_every_kind_arrive_live(
    settings: Settings, backends: Backends
) -> None:
    server = core(settings, backends)
    revocations = live_set()
    feed = RedisRevocationFeed(REDIS_URL, revocations, settings.redis_prefix, **FAST)
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        assert revocations.connected
        gid, sid, user = uuid.uuid4().hex, uuid.uuid4().hex, str(uuid.uuid4())
        before = time.time() - 1  # iat is whole seconds, before the subject revocation
        assert await server.revoke_grant(gid)
        assert await server.revoke_session(sid, until=time.time() + 600)
        assert await server.revoke_token("jti-live", until=time.time() + 600)
        assert await server.revoke_subject(user)
        assert await applied(revocations, server)
        now = time.time()
        assert revocations.verdict(facts("a", gid=gid), now) is Verdict.REVOKED
        assert revocations.verdict(facts("b", sid=sid), now) is Verdict.REVOKED
        assert revocations.verdict(facts("jti-live"), now) is Verdict.REVOKED
        assert revocations.verdict(facts("c", sub=user, iat=before), now) is Verdict.REVOKED
        assert revocations.verdict(facts("d", gid="other"), now) is Verdict.ACCEPT
        assert revocations.verdict(facts("e", sub=user, iat=now + 2), now) is Verdict.ACCEPT
    assert not revocations.connected  # closed: the set knows it is no longer fed


@on_redis
async def test_a_restarted_feed_catches_up_on_what_was_revoked_meanwhile(
    settings: Settings, backends: Backends
) -> None:
    server = core(settings, backends)
    # The shared Redis may have started less than a token lifetime ago, a hole of its own
    # (test_after_a_redis_restart_without_http...): this test is about the stream alone.
    revocations = live_set(max_token_ttl_seconds=1)
    feed = RedisRevocationFeed(REDIS_URL, revocations, settings.redis_prefix, **FAST)
    await feed.start()
    assert await feed.wait_ready(WAIT_SECONDS)
    first, missed = uuid.uuid4().hex, [uuid.uuid4().hex, uuid.uuid4().hex]
    await server.revoke_grant(first)
    assert await applied(revocations, server)
    await feed.aclose()
    old = facts("old", iat=time.time() - 1)
    assert revocations.verdict(old, time.time()) is Verdict.FEED_UNAVAILABLE  # no grace

    for gid in missed:
        await server.revoke_grant(gid)
    assert all(
        revocations.verdict(facts(g, gid=g), time.time()) is not Verdict.REVOKED for g in missed
    )  # unseen while the feed was stopped
    await feed.start()
    try:
        assert await feed.wait_ready(WAIT_SECONDS)
        now = time.time()
        for gid in [first, *missed]:
            assert revocations.verdict(facts(gid, gid=gid), now) is Verdict.REVOKED
        # The stream vouched for the absence: older tokens are accepted again.
        assert revocations.verdict(old, now) is Verdict.ACCEPT
    finally:
        await feed.aclose()


@on_redis
async def test_a_stream_trimmed_past_the_last_entry_read_leaves_a_hole(
    settings: Settings, backends: Backends, caplog: pytest.LogCaptureFixture
) -> None:
    assert backends.redis is not None
    publisher = Publisher(backends.redis, settings.redis_prefix, stream_length=100)
    until = time.time() + 600
    await publisher.publish(RevocationEvent(1, RevocationKind.TOKEN, "j1", time.time(), until))
    revocations = live_set()
    feed = RedisRevocationFeed(REDIS_URL, revocations, settings.redis_prefix, **FAST)
    await feed.start()
    assert await feed.wait_ready(WAIT_SECONDS)
    await feed.aclose()
    old = facts("old", iat=time.time() - 1)
    for seq in range(2, 402):  # MAXLEN ~ 100: the first ones, "j1" among them, go
        revoked = RevocationEvent(seq, RevocationKind.TOKEN, f"j{seq}", time.time(), until)
        await publisher.publish(revoked)
    with caplog.at_level(logging.WARNING, logger="gatepass.resource"):
        await feed.start()
        try:
            assert await feed.wait_ready(WAIT_SECONDS)
            assert "trimmed past the last entry read" in caplog.text
            assert revocations.connected
            now = time.time()
            assert revocations.verdict(facts("j401"), now) is Verdict.REVOKED  # in the window
            # "j2" may be trimmed unseen: every token issued before the trim is refused...
            assert revocations.verdict(old, now) is Verdict.FEED_UNAVAILABLE
            assert revocations.verdict(facts("j2", iat=now - 1), now) is not Verdict.ACCEPT
            # ... until the longest token lifetime has passed.
            assert revocations.verdict(old, now + 3600 + 10) is Verdict.ACCEPT
        finally:
            await feed.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[ScratchRedis]:
    with scratch_redis(tmp_path) as server:
        yield server


@pytest.fixture
async def own_backends(tmp_path: Path, own_redis: ScratchRedis) -> AsyncIterator[Backends]:
    """The server core's stores: SQL in a SQLite file, Redis the test's own server."""
    settings = own_settings(tmp_path, own_redis)
    async with support.test_backends(settings) as backends:
        yield backends


def own_settings(tmp_path: Path, own_redis: ScratchRedis) -> Settings:
    settings = settings_for("redis", tmp_path, "postgresql://unused", "gpfeed:")
    return replace(settings, redis_url=own_redis.url)


@pytest.fixture
def issuer(tmp_path: Path, own_backends: Backends) -> Iterator[LiveServer]:
    """`gatepass serve` on the same SQLite log, without Redis: the HTTP catch-up source."""
    workdir = tmp_path / "server"
    workdir.mkdir()
    database = f"sqlite:///{tmp_path}/test.db"
    with live_server(workdir, {"GATEPASS_DATABASE_URL": database}) as live:
        yield live


def confidential_client(live: LiveServer) -> tuple[str, str]:
    created = json.loads(
        live.cli("client", "create", "verifier", "--json", "--grant-type", "client_credentials")
    )
    return created["client_id"], created["client_secret"]


async def test_after_a_redis_restart_the_log_fills_the_gap_over_http(
    tmp_path: Path,
    own_redis: ScratchRedis,
    own_backends: Backends,
    issuer: LiveServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = core(own_settings(tmp_path, own_redis), own_backends)
    revocations = live_set()
    client_id, secret = confidential_client(issuer)
    http = HttpRevocationFeed(issuer.url, client_id, secret, revocations)
    feed = RedisRevocationFeed(own_redis.url, revocations, "gpfeed:", http=http, **FAST)
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        before, during, after = (uuid.uuid4().hex for _ in range(3))
        await server.revoke_grant(before)
        assert await applied(revocations, server)
        old = facts("old", iat=time.time() - 1)

        own_redis.kill()
        assert await eventually(lambda: not revocations.connected)
        assert revocations.verdict(old, time.time()) is Verdict.FEED_UNAVAILABLE
        with caplog.at_level(logging.WARNING, logger="gatepass.revocation"):
            assert await server.revoke_grant(during)  # recorded in SQL, not published
        assert "recorded but not published" in caplog.text
        assert revocations.verdict(facts("x", gid=during), time.time()) is not Verdict.REVOKED

        own_redis.start()  # empty: the stream that held `before` is gone
        assert await eventually(lambda: revocations.connected)
        now = time.time()
        # The HTTP catch-up delivered what Redis never carried...
        assert revocations.verdict(facts("y", gid=during), now) is Verdict.REVOKED
        assert revocations.verdict(facts("z", gid=before), now) is Verdict.REVOKED
        # ... so the whole log is known and no older token is refused for want of it.
        assert revocations.verdict(old, now) is Verdict.ACCEPT
        # And the subscription is live again.
        await server.revoke_grant(after)
        assert await eventually(
            lambda: revocations.verdict(facts("w", gid=after), time.time()) is Verdict.REVOKED
        )


async def test_after_a_redis_restart_without_http_older_tokens_stay_refused(
    tmp_path: Path, own_redis: ScratchRedis, own_backends: Backends
) -> None:
    """What is covered without the log: the revocation made while Redis was down never
    arrives, but the token it kills was issued before the restart, and every such token
    is refused until it would have expired anyway. Tokens issued after are accepted."""
    server = core(own_settings(tmp_path, own_redis), own_backends)
    revocations = live_set()
    feed = RedisRevocationFeed(own_redis.url, revocations, "gpfeed:", **FAST)
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        own_redis.kill()
        assert await eventually(lambda: not revocations.connected)
        during = uuid.uuid4().hex
        victim = facts("victim", gid=during, iat=time.time() - 1)
        await server.revoke_grant(during)  # recorded in SQL only
        own_redis.start()
        restarted = time.time()
        assert await eventually(lambda: revocations.connected)
        now = time.time()
        assert revocations.verdict(victim, now) is Verdict.FEED_UNAVAILABLE
        assert revocations.verdict(facts("old", iat=restarted - 2), now) is (
            Verdict.FEED_UNAVAILABLE
        )
        assert revocations.verdict(facts("new", iat=now + 1), now + 2) is Verdict.ACCEPT
        assert revocations.verdict(victim, restarted + 3600 + 10) is not (Verdict.FEED_UNAVAILABLE)


async def test_when_the_log_cannot_be_reached_the_hole_stands_and_redis_stays_live(
    tmp_path: Path, own_redis: ScratchRedis, own_backends: Backends
) -> None:
    server = core(own_settings(tmp_path, own_redis), own_backends)
    revocations = live_set()
    unreachable = HttpRevocationFeed("http://127.0.0.1:1", "id", "secret", revocations)
    feed = RedisRevocationFeed(own_redis.url, revocations, "gpfeed:", http=unreachable, **FAST)
    async with feed:
        # A Redis that started a moment ago cannot vouch for what came before it.
        assert await feed.wait_ready(WAIT_SECONDS)
        assert revocations.connected
        now = time.time()
        assert revocations.verdict(facts("old", iat=now - 60), now) is Verdict.FEED_UNAVAILABLE
        gid = uuid.uuid4().hex
        await server.revoke_grant(gid)
        assert await eventually(
            lambda: revocations.verdict(facts("x", gid=gid), time.time()) is Verdict.REVOKED
        )


async def test_a_feed_that_cannot_reach_redis_gives_up_after_max_attempts() -> None:
    revocations = live_set()
    feed = RedisRevocationFeed(
        "redis://127.0.0.1:1/0", revocations, max_attempts=2, min_backoff=0.01, max_backoff=0.02
    )
    await feed.start()
    assert await eventually(lambda: not feed.running)
    assert feed.failures == 2
    assert not revocations.connected
    await feed.aclose()


def test_bad_backoff_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="backoff"):
        RedisRevocationFeed(REDIS_URL, live_set(), min_backoff=0)


async def test_an_unreachable_feed_never_leaves_the_set_open() -> None:
    revocations = live_set()
    async with RedisRevocationFeed(
        "redis://127.0.0.1:1/0", revocations, min_backoff=0.01, max_backoff=0.02
    ) as feed:
        assert not await feed.wait_ready(0.2)
        assert revocations.kills(facts("any", iat=time.time() - 1), time.time())
