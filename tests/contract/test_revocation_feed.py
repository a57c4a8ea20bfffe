"""The revocation feed (storage/redis/revocation_feed.py, docs/revocation.md): recorded in
SQL first, then published on Redis (pub/sub and stream); a Redis that cannot take it
costs a log line, never the record. Ended sessions join the log, through the app too."""

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest, new_secret
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import SessionPolicy
from gatepass.storage.backends import Backends
from gatepass.storage.redis.revocation_feed import (
    RedisRevocationFeed,
    channel_name,
    stream_name,
)
from gatepass.tokens.revocation import NoFeed, Revocations
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind
from gatepass.web.app import build_revocations
from tests.contract.conftest import START
from tests.web.conftest import log_out, sign_up_as

NewUser = Callable[[], Awaitable[str]]
on_redis = pytest.mark.parametrize("backend", ["redis"])
# Nothing listens on port 1: connections are refused at once.
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"
READ_TIMEOUT_SECONDS = 1.5  # below the client's socket timeout


@pytest.fixture
def redis(backends: Backends) -> Redis:
    assert backends.redis is not None
    return backends.redis


@pytest.fixture
async def subscriber(redis: Redis, settings: Settings) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel_name(settings.redis_prefix))
    confirmed = await pubsub.get_message(timeout=READ_TIMEOUT_SECONDS)
    assert confirmed is not None
    assert confirmed["type"] == "subscribe"
    yield pubsub
    await pubsub.aclose()


async def received(pubsub: PubSub) -> list[RevocationEvent]:
    """Every event published so far (the subscription is confirmed before the test acts)."""
    events = []
    while (message := await pubsub.get_message(timeout=READ_TIMEOUT_SECONDS)) is not None:
        assert message["type"] == "message"
        events.append(RevocationEvent.from_json(message["data"]))
    return events


async def in_stream(redis: Redis, settings: Settings) -> list[RevocationEvent]:
    entries = await redis.xrange(stream_name(settings.redis_prefix))
    return [RevocationEvent.from_json(fields[b"event"]) for _, fields in entries]


def revocations_of(settings: Settings, backends: Backends) -> Revocations:
    """As the app wires them (web/app.py)."""
    return build_revocations(settings, backends, FixedClock(START))


@on_redis
async def test_a_revocation_is_in_sql_on_the_channel_and_in_the_stream(
    settings: Settings, backends: Backends, redis: Redis, subscriber: PubSub
) -> None:
    revocations = revocations_of(settings, backends)
    gid, user = uuid.uuid4().hex, str(uuid.uuid4())
    assert await revocations.revoke_grant(gid)
    assert await revocations.revoke_subject(user)
    assert await revocations.revoke_token("jti-1", until=START + 900)

    logged = await revocations.since(0)
    assert [(e.kind, e.id) for e in logged] == [
        (RevocationKind.GRANT, gid),
        (RevocationKind.SUBJECT, user),
        (RevocationKind.TOKEN, "jti-1"),
    ]
    assert await received(subscriber) == logged
    assert await in_stream(redis, settings) == logged
    # A second revocation of the same grant records and publishes nothing.
    assert not await revocations.revoke_grant(gid)
    assert await received(subscriber) == []
    assert await in_stream(redis, settings) == logged


@on_redis
async def test_the_published_message_is_the_events_stable_json(
    settings: Settings, backends: Backends, subscriber: PubSub
) -> None:
    await revocations_of(settings, backends).revoke_session("sid-1", until=START + 60)
    message = await subscriber.get_message(timeout=READ_TIMEOUT_SECONDS)
    assert message is not None
    (event,) = await backends.revocations.since(0, 10)
    assert (
        message["data"]
        == (
            f'{{"v":1,"seq":{event.seq},"type":"session","id":"sid-1",'
            f'"at":{START!r},"until":{START + 60!r}}}'
        ).encode()
    )


@on_redis
async def test_a_redis_that_cannot_publish_costs_a_log_line_never_the_record(
    settings: Settings, backends: Backends, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = Redis.from_url(CLOSED_PORT_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        feed = RedisRevocationFeed(unreachable, settings.redis_prefix)
        revocations = Revocations(
            backends.revocations, feed, FixedClock(START), max_token_ttl_seconds=3600
        )
        gid = uuid.uuid4().hex
        with caplog.at_level(logging.WARNING, logger="gatepass.revocation"):
            assert await revocations.revoke_grant(gid)
    finally:
        await unreachable.aclose()
    (event,) = await backends.revocations.since(0, 10)
    assert (event.kind, event.id) == (RevocationKind.GRANT, gid)
    assert f"revocation seq={event.seq} recorded but not published" in caplog.text
    # ... and the record is what the issuer's own checks read.
    assert await backends.revocations.find([(RevocationKind.GRANT, gid)], START + 1) == [event]


@on_redis
async def test_the_stream_is_trimmed_to_about_its_length(settings: Settings, redis: Redis) -> None:
    feed = RedisRevocationFeed(redis, settings.redis_prefix, stream_length=100)
    for seq in range(1, 401):
        await feed.publish(RevocationEvent(seq, RevocationKind.TOKEN, f"j{seq}", START, START + 1))
    length = await redis.xlen(stream_name(settings.redis_prefix))
    # MAXLEN ~ trims whole nodes of entries: at least the length, well under what was sent.
    assert 100 <= length < 400
    newest = await in_stream(redis, settings)
    assert newest[-1].seq == 400


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_without_redis_the_log_alone_holds_revocations(
    settings: Settings, backends: Backends
) -> None:
    assert isinstance(backends.revocation_feed, NoFeed)
    revocations = revocations_of(settings, backends)
    assert await revocations.revoke_session("sid-2", until=START + 60)
    assert [e.id for e in await revocations.since(0)] == ["sid-2"]


async def test_ending_sessions_records_them_until_their_absolute_end(
    backends: Backends, settings: Settings, clock: FixedClock, new_user: NewUser
) -> None:
    revocations = revocations_of(settings, backends)
    manager = SessionManager(backends.sessions, SessionPolicy(3600, 7200, 2), clock, revocations)
    user = await new_user()
    first = await manager.start(user, "192.0.2.1", "ua")
    second = await manager.start(user, "192.0.2.1", "ua")
    third = await manager.start(user, "192.0.2.1", "ua")  # evicts the first (limit 2)
    await manager.end(second.secret)
    assert await manager.end(second.secret) is None  # ended already: nothing new
    fourth = await manager.start(user, "192.0.2.1", "ua")
    assert await manager.end_all(user) == 2

    logged = await revocations.since(0)
    assert [(e.kind, e.id) for e in logged] == [
        (RevocationKind.SESSION, first.session.id),
        (RevocationKind.SESSION, second.session.id),
        (RevocationKind.SESSION, third.session.id),
        (RevocationKind.SESSION, fourth.session.id),
    ]
    ended = (first, second, third, fourth)
    assert [e.until for e in logged] == [s.session.absolute_expires_at for s in ended]
    # A well-formed secret of no session records nothing.
    assert await manager.end(new_secret()) is None
    assert len(await revocations.since(0)) == 4


async def test_logging_out_through_the_app_records_the_session(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    secret = await sign_up_as(client, "feed@example.com")
    await log_out(client)
    (event,) = await backends.revocations.since(0, 10)
    assert (event.kind, event.id) == (RevocationKind.SESSION, digest(secret))
