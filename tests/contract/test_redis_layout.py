"""The Redis layout (storage/redis/sessions.py): TTLs everywhere, digests only, small keys."""

import pytest
from redis.asyncio import Redis

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.sessions.manager import SessionManager, StartedSession
from gatepass.sessions.policy import SessionPolicy
from gatepass.storage.backends import Backends

pytestmark = pytest.mark.parametrize("backend", ["redis"])

MAX_SESSION_KEY_BYTES = 300
MAX_INDEX_ENTRY_BYTES = 120  # a hashtable entry costs 260 with the User-Agent header
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0 " * 3
)


@pytest.fixture
def redis(backends: Backends) -> Redis:
    assert backends.redis is not None
    return backends.redis


@pytest.fixture
def manager(backends: Backends, settings: Settings, clock: FixedClock) -> SessionManager:
    policy = SessionPolicy(
        settings.session_idle_ttl, settings.session_absolute_ttl, settings.max_sessions_per_user
    )
    return SessionManager(backends.sessions, policy, clock)


async def start_some(manager: SessionManager) -> list[StartedSession]:
    return [
        await manager.start("user-1", "2001:db8:85a3::8a2e:370:7334", BROWSER),
        await manager.start("user-1", "192.0.2.1", "curl/8.0"),
        await manager.start("user-2", "192.0.2.2", BROWSER),
    ]


async def keys_of(redis: Redis, prefix: str) -> list[bytes]:
    return [key async for key in redis.scan_iter(match=f"{prefix}*")]


async def test_every_session_key_expires_within_the_absolute_lifetime(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    await start_some(manager)
    keys = await keys_of(redis, settings.redis_prefix)
    assert len(keys) == 5  # three sessions and two per-user indexes
    for key in keys:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= settings.session_absolute_ttl, key


async def test_the_hot_session_key_expires_after_the_idle_timeout(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    started = await manager.start("user-1", "192.0.2.1", BROWSER)
    ttl = await redis.ttl(f"{settings.redis_prefix}s:{started.session.id}")
    assert 0 < ttl <= settings.session_idle_ttl


async def test_keys_hold_the_digest_of_the_cookie_secret_never_the_secret(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    started = await start_some(manager)
    stored = b""
    for key in await keys_of(redis, settings.redis_prefix):
        kind = await redis.type(key)
        if kind == b"string":
            stored += key + b"=" + await redis.get(key)
        else:
            assert kind == b"hash"
            entries = await redis.hgetall(key)
            stored += key + b"".join(k + b"=" + v for k, v in entries.items())
    for one in started:
        assert await redis.exists(f"{settings.redis_prefix}s:{digest(one.secret)}") == 1
        assert one.secret.encode() not in stored


async def test_a_session_key_uses_at_most_300_bytes_of_memory(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    started = await manager.start("3f8e2c1a-9b7d-4e6f-8a5b-1c2d3e4f5a6b", "2001:db8::1", BROWSER)
    used = await redis.memory_usage(f"{settings.redis_prefix}s:{started.session.id}")
    assert used is not None
    assert used <= MAX_SESSION_KEY_BYTES


async def test_touch_resets_the_key_ttl_to_the_idle_timeout(
    backends: Backends, redis: Redis, settings: Settings
) -> None:
    manager = SessionManager(backends.sessions, SessionPolicy(100, 1000, 5), FixedClock())
    started = await manager.start("user-1", "192.0.2.1", "")
    key = f"{settings.redis_prefix}s:{started.session.id}"
    assert await redis.ttl(key) <= 100
    longer = SessionManager(backends.sessions, SessionPolicy(900, 1000, 5), FixedClock())
    assert await longer.resume(started.secret) is not None
    assert 100 < await redis.ttl(key) <= 900


async def test_ending_a_session_removes_it_from_the_users_index(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    started = await manager.start("user-1", "192.0.2.1", "")
    await manager.end(started.secret)
    assert await redis.hlen(f"{settings.redis_prefix}u:user-1") == 0
    assert await redis.exists(f"{settings.redis_prefix}s:{started.session.id}") == 0


async def test_a_throttle_key_expires_one_second_after_its_window(
    backends: Backends, redis: Redis, settings: Settings
) -> None:
    await backends.throttle.hit("login:acct:ada", 1_800_000_000.0, 900, 10)
    ttl = await redis.ttl(f"{settings.redis_prefix}t:login:acct:ada")
    assert 0 < ttl <= 901


async def test_a_hot_record_of_three_fields_is_read_as_a_password_login(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    """Sessions written before `amr|idp` joined the record stay valid, as password logins;
    the record now carries them, and the resource toolkit's reader accepts both."""
    started = await manager.start("user-3", "192.0.2.3", "curl/8.0", amr=("fed",), idp="corp")
    key = f"{settings.redis_prefix}s:{started.session.id}"
    fields = (await redis.get(key)).decode().split("|")
    assert fields[3:] == ["fed", "corp"]
    resumed = await manager.resume(started.secret)
    assert resumed is not None
    assert (resumed.amr, resumed.idp) == (("fed",), "corp")
    await redis.set(key, "|".join(fields[:3]), ex=60)
    old = await manager.resume(started.secret)
    assert old is not None
    assert (old.user_id, old.amr, old.idp) == ("user-3", ("pwd",), None)


async def test_a_session_adds_a_compact_entry_to_its_users_index(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    """With its record (above), a session's entry in the user's index is what it costs
    (issue 8's budget: 300 bytes for both). A device label and no times keep the index
    in Redis's compact encoding, where an entry costs about its own bytes."""
    user_id = "3f8e2c1a-9b7d-4e6f-8a5b-1c2d3e4f5a6b"
    index = f"{settings.redis_prefix}u:{user_id}"
    sizes = []
    for _ in range(2):
        for _ in range(3):
            await manager.start(user_id, "203.0.113.7", BROWSER)
        sizes.append(await redis.memory_usage(index, samples=0))
    assert await redis.object("encoding", index) == b"listpack"
    first, second = sizes
    assert first is not None
    assert second is not None
    assert (second - first) / 3 <= MAX_INDEX_ENTRY_BYTES


async def test_an_index_entry_written_with_its_times_still_lists(
    manager: SessionManager, redis: Redis, settings: Settings
) -> None:
    """Index entries of earlier versions began with the times: still read (address and
    user agent), the times now taken from the session's own record."""
    started = await manager.start("user-4", "192.0.2.4", "curl/8.0")
    old = f"{started.session.created_at:.3f}|{started.session.absolute_expires_at:.0f}"
    await redis.hset(
        f"{settings.redis_prefix}u:user-4", started.session.id, f"{old}|192.0.2.9|Old/1.0 (x|y)"
    )
    [listed] = await manager.list_for_user("user-4")
    assert (listed.address, listed.user_agent) == ("192.0.2.9", "Old/1.0 (x|y)")
    assert listed.absolute_expires_at == int(started.session.absolute_expires_at)
