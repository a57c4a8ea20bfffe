"""SessionManager (sessions/manager.py) on every backend, with a fixed clock.

Redis expires idle sessions in real time, so idle timeouts here are long and
only the FixedClock moves: the absolute lifetime is the manager's to enforce.
"""

from collections.abc import Awaitable, Callable

import pytest

from gatepass.clock import FixedClock
from gatepass.crypto.secrets import digest, looks_like_secret, new_secret
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.model import Session
from gatepass.sessions.policy import SessionPolicy
from gatepass.sessions.store import SessionStore
from gatepass.storage.backends import Backends

NewUser = Callable[[], Awaitable[str]]
IDLE, ABSOLUTE, MAX_PER_USER = 3600, 7200, 3
ADDRESS, AGENT = "192.0.2.1", "Mozilla/5.0"


@pytest.fixture
def store(backends: Backends) -> SessionStore:
    return backends.sessions


@pytest.fixture
def manager(store: SessionStore, clock: FixedClock) -> SessionManager:
    return SessionManager(store, SessionPolicy(IDLE, ABSOLUTE, MAX_PER_USER), clock)


async def test_every_start_issues_a_new_secret_stored_only_as_its_digest(
    manager: SessionManager, new_user: NewUser
) -> None:
    user_id = await new_user()
    first = await manager.start(user_id, ADDRESS, AGENT)
    second = await manager.start(user_id, ADDRESS, AGENT)
    assert first.secret != second.secret
    for started in (first, second):
        assert looks_like_secret(started.secret)
        assert started.session.id == digest(started.secret) != started.secret


async def test_resume_returns_the_live_session_seen_now(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    user_id = await new_user()
    started = await manager.start(user_id, ADDRESS, AGENT)
    clock.advance(30)
    session = await manager.resume(started.secret)
    assert session is not None
    assert (session.id, session.user_id, session.last_seen_at) == (
        started.session.id,
        user_id,
        clock.now(),
    )


async def test_a_planted_secret_is_never_adopted__owasp_session_fixation(
    manager: SessionManager, new_user: NewUser
) -> None:
    planted = new_secret()
    assert await manager.resume(planted) is None
    started = await manager.start(await new_user(), ADDRESS, AGENT)
    assert started.secret != planted
    assert await manager.resume(planted) is None


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("", id="an empty cookie"),
        pytest.param("A" * 44, id="a cookie one character too long"),
        pytest.param("A" * 42, id="a cookie one character too short"),
        pytest.param("A" * 4096, id="a four-kilobyte cookie"),
        pytest.param("+/" * 21 + "=", id="standard base64 instead of url-safe"),
        pytest.param("!" * 43, id="punctuation that is not base64 at all"),
        pytest.param("é" * 43, id="unicode letters"),
        pytest.param("٣" * 43, id="unicode digits"),
        pytest.param("A" * 42 + "\n", id="a trailing newline"),
        pytest.param("A" * 42 + "\x00", id="a NUL byte"),
        pytest.param("' OR 1=1 --" * 4, id="sql in the cookie"),
    ],
)
async def test_a_garbage_cookie_resumes_to_none_without_a_storage_error(
    manager: SessionManager, new_user: NewUser, cookie: str
) -> None:
    await manager.start(await new_user(), ADDRESS, AGENT)
    assert await manager.resume(cookie) is None
    assert await manager.end(cookie) is None
    assert await manager.rotate(cookie, ADDRESS, AGENT) is None


async def test_the_absolute_lifetime_ends_an_active_session__owasp_absolute_timeout(
    manager: SessionManager, store: SessionStore, new_user: NewUser, clock: FixedClock
) -> None:
    started = await manager.start(await new_user(), ADDRESS, AGENT)
    for _ in range(2):  # busy all along: the idle timeout never runs out
        clock.advance(3000)
        assert await manager.resume(started.secret) is not None
    clock.advance(1300)  # 7300 s after login, 1300 s after the last request
    assert await manager.resume(started.secret) is None
    assert await store.touch(started.session.id, clock.now(), IDLE) is None, "not deleted"


async def test_a_session_ends_at_the_very_instant_of_its_absolute_expiry(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    started = await manager.start(await new_user(), ADDRESS, AGENT)
    clock.advance(3599)
    assert await manager.resume(started.secret) is not None
    clock.advance(3599)
    assert await manager.resume(started.secret) is not None
    clock.advance(2)
    assert await manager.resume(started.secret) is None


async def test_list_for_user_leaves_out_absolutely_expired_sessions(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    user_id = await new_user()
    await manager.start(user_id, ADDRESS, AGENT)
    clock.advance(3000)
    fresh = await manager.start(user_id, ADDRESS, AGENT)
    clock.advance(3000)
    await manager.resume(fresh.secret)
    clock.advance(1300)
    assert [s.id for s in await manager.list_for_user(user_id)] == [fresh.session.id]


async def test_rotate_issues_a_new_secret_and_the_old_one_stops_working(
    manager: SessionManager, new_user: NewUser
) -> None:
    user_id = await new_user()
    old = await manager.start(user_id, ADDRESS, AGENT)
    new = await manager.rotate(old.secret, "198.51.100.7", AGENT)
    assert new is not None
    assert new.secret != old.secret
    assert await manager.resume(old.secret) is None
    resumed = await manager.resume(new.secret)
    assert resumed is not None
    assert resumed.user_id == user_id
    assert [s.id for s in await manager.list_for_user(user_id)] == [new.session.id]


async def test_rotate_of_an_ended_session_returns_none(
    manager: SessionManager, new_user: NewUser
) -> None:
    started = await manager.start(await new_user(), ADDRESS, AGENT)
    await manager.end(started.secret)
    assert await manager.rotate(started.secret, ADDRESS, AGENT) is None


async def test_end_deletes_the_server_record_so_a_replayed_cookie_is_anonymous(
    manager: SessionManager, store: SessionStore, new_user: NewUser, clock: FixedClock
) -> None:
    started = await manager.start(await new_user(), ADDRESS, AGENT)
    ended = await manager.end(started.secret)
    assert ended is not None
    assert ended.id == started.session.id
    assert await manager.resume(started.secret) is None
    assert await store.touch(started.session.id, clock.now(), IDLE) is None
    assert await manager.end(started.secret) is None


async def test_end_all_ends_every_session_of_that_user_only(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    ada, grace = await new_user(), await new_user()
    adas = []
    for _ in range(2):
        adas.append(await manager.start(ada, ADDRESS, AGENT))
        clock.advance(1)
    graces = await manager.start(grace, ADDRESS, AGENT)
    assert await manager.end_all(ada) == 2
    for started in adas:
        assert await manager.resume(started.secret) is None
    assert await manager.resume(graces.secret) is not None


async def test_a_login_beyond_max_per_user_evicts_the_oldest__asvs_7_1_2(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    user_id = await new_user()
    started = []
    for _ in range(MAX_PER_USER + 2):
        started.append(await manager.start(user_id, ADDRESS, AGENT))
        clock.advance(1)
    survivors = started[-MAX_PER_USER:]
    for evicted in started[:2]:
        assert await manager.resume(evicted.secret) is None
    for kept in survivors:
        assert await manager.resume(kept.secret) is not None
    assert [s.id for s in await manager.list_for_user(user_id)] == [s.session.id for s in survivors]


class _ListingsCounted:
    """The backend's own store, counting the listings asked of it."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store
        self.listings = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def list_for_user(self, user_id: str, now: float, idle_seconds: int) -> list[Session]:
        self.listings += 1
        return await self._store.list_for_user(user_id, now, idle_seconds)


async def test_a_login_under_max_per_user_lists_no_sessions(
    store: SessionStore, new_user: NewUser, clock: FixedClock
) -> None:
    counted = _ListingsCounted(store)
    manager = SessionManager(counted, SessionPolicy(IDLE, ABSOLUTE, MAX_PER_USER), clock)  # type: ignore[arg-type]
    user_id = await new_user()
    started = []
    for _ in range(MAX_PER_USER):
        started.append(await manager.start(user_id, ADDRESS, AGENT))
        clock.advance(1)
    assert counted.listings == 0
    beyond = await manager.start(user_id, ADDRESS, AGENT)  # one too many: the oldest goes
    assert counted.listings == 1
    assert await manager.resume(started[0].secret) is None
    assert await manager.resume(beyond.secret) is not None


async def test_max_per_user_counts_each_user_apart(
    manager: SessionManager, new_user: NewUser, clock: FixedClock
) -> None:
    ada, grace = await new_user(), await new_user()
    graces = await manager.start(grace, ADDRESS, AGENT)
    for _ in range(MAX_PER_USER + 1):
        clock.advance(1)
        await manager.start(ada, ADDRESS, AGENT)
    assert await manager.resume(graces.secret) is not None


async def test_end_by_id_with_a_user_refuses_another_users_session(
    manager: SessionManager, new_user: NewUser
) -> None:
    ada, mallory = await new_user(), await new_user()
    adas = await manager.start(ada, ADDRESS, AGENT)
    assert await manager.end_by_id(adas.session.id, user_id=mallory) is None
    assert await manager.resume(adas.secret) is not None


async def test_end_by_id_with_the_owner_ends_the_session(
    manager: SessionManager, new_user: NewUser
) -> None:
    ada = await new_user()
    adas = await manager.start(ada, ADDRESS, AGENT)
    ended = await manager.end_by_id(adas.session.id, user_id=ada)
    assert ended is not None
    assert ended.id == adas.session.id
    assert await manager.resume(adas.secret) is None


async def test_end_by_id_without_a_user_ends_any_session(
    manager: SessionManager, new_user: NewUser
) -> None:
    adas = await manager.start(await new_user(), ADDRESS, AGENT)
    assert await manager.end_by_id(adas.session.id) is not None
    assert await manager.resume(adas.secret) is None


async def test_a_session_keeps_a_device_label_not_the_user_agent_header(
    manager: SessionManager, new_user: NewUser
) -> None:
    """sessions/devices.py: the browser and system a person recognises; a header nothing
    can place is kept as sent, cut to 40 characters (the audit log keeps the header)."""
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36"
    )
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    labels = []
    for header in (chrome, iphone, "AdaPhone/1.0", "A" * 5000, ""):
        user_id = await new_user()  # one each: MAX_PER_USER would evict the first ones
        await manager.start(user_id, ADDRESS, header)
        [listed] = await manager.list_for_user(user_id)
        labels.append(listed.user_agent)
    assert labels == [
        "Chrome 126 on Windows",
        "Mobile Safari 17 on iOS",
        "AdaPhone/1.0",
        "A" * 40,
        "",
    ]
