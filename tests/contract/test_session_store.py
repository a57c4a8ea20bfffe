"""SessionStore contract (sessions/store.py), sentence by sentence, on every backend.

Idle expiry is judged from `now` in SQL and by real key TTLs in Redis; the
`timeline` fixture advances both, so waits of a second or two are real on Redis.
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from gatepass.crypto.secrets import digest, new_secret
from gatepass.sessions.model import Session
from gatepass.sessions.store import SessionStore
from gatepass.storage.backends import Backends
from gatepass.storage.sql.tables import sessions as sessions_table
from gatepass.storage.sql.tables import throttle_hits
from tests.contract.conftest import START, Timeline

NewUser = Callable[[], Awaitable[str]]
LONG = 3600  # an idle timeout no test outlives


def a_session(user_id: str, *, at: float = START, absolute: float = 7200, **extra: str) -> Session:
    return Session(
        id=digest(new_secret()),
        user_id=user_id,
        created_at=at,
        last_seen_at=at,
        absolute_expires_at=at + absolute,
        address=extra.get("address", "192.0.2.10"),
        user_agent=extra.get("user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
    )


@pytest.fixture
def store(backends: Backends) -> SessionStore:
    return backends.sessions


async def test_touch_returns_the_session_with_last_seen_at_now(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    created = a_session(await new_user(), at=START + 0.25)
    await store.create(created, LONG)
    now = await timeline.wait(0.5)
    touched = await store.touch(created.id, now, LONG)
    assert touched is not None
    assert (touched.id, touched.user_id, touched.last_seen_at) == (
        created.id,
        created.user_id,
        now,
    )
    # Redis keeps whole seconds in its small hot record; SQL keeps them exactly.
    assert touched.created_at == pytest.approx(created.created_at, abs=1)
    assert touched.absolute_expires_at == pytest.approx(created.absolute_expires_at, abs=1)


async def test_a_session_is_never_read_back_as_younger_than_it_is(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    # The login time is an id token's auth_time, which must not come after its iat.
    created = a_session(await new_user(), at=START + 0.75)
    await store.create(created, LONG)
    touched = await store.touch(created.id, await timeline.wait(0.1), LONG)
    assert touched is not None
    assert created.created_at - 1 < touched.created_at <= created.created_at
    assert touched.absolute_expires_at <= created.absolute_expires_at


async def test_how_the_user_authenticated_is_kept_by_touch_and_delete(
    store: SessionStore, new_user: NewUser
) -> None:
    federated = replace(a_session(await new_user()), amr=("fed",), idp="corp-sso")
    password = a_session(await new_user())
    for session in (federated, password):
        await store.create(session, LONG)
    touched = await store.touch(federated.id, START + 1, LONG)
    assert touched is not None
    assert (touched.amr, touched.idp) == (("fed",), "corp-sso")
    plain = await store.touch(password.id, START + 1, LONG)
    assert plain is not None
    assert (plain.amr, plain.idp) == (("pwd",), None)
    listed = await store.list_for_user(federated.user_id, START + 1, LONG)
    assert [(s.amr, s.idp) for s in listed] == [(("fed",), "corp-sso")]
    deleted = await store.delete(federated.id)
    assert deleted is not None
    assert (deleted.amr, deleted.idp) == (("fed",), "corp-sso")


async def test_touch_of_an_unknown_session_returns_none(
    store: SessionStore, new_user: NewUser
) -> None:
    await store.create(a_session(await new_user()), LONG)
    assert await store.touch(digest(new_secret()), START, LONG) is None


async def test_touch_slides_the_idle_expiry_to_now_plus_idle_seconds(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    user_id = await new_user()
    touched, untouched = a_session(user_id), a_session(user_id)
    await store.create(touched, 2)
    await store.create(untouched, 2)
    assert await store.touch(touched.id, await timeline.wait(1.2), 2) is not None
    # 2.4 s after creation: past the first idle expiry, within the slid one.
    assert await store.touch(touched.id, await timeline.wait(1.2), 2) is not None
    assert await store.touch(untouched.id, timeline.now, 2) is None


async def test_touch_returns_none_once_the_idle_expiry_has_passed(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    session = a_session(await new_user())
    await store.create(session, 1)
    now = await timeline.wait(1.2)
    assert await store.touch(session.id, now, 1) is None
    assert await store.touch(session.id, now, 1) is None, "a late touch must not revive it"


async def test_delete_returns_the_session_and_touch_then_returns_none(
    store: SessionStore, new_user: NewUser
) -> None:
    session = a_session(await new_user())
    await store.create(session, LONG)
    deleted = await store.delete(session.id)
    assert deleted is not None
    assert (deleted.id, deleted.user_id) == (session.id, session.user_id)
    assert await store.touch(session.id, START + 1, LONG) is None
    assert await store.delete(session.id) is None


async def test_delete_leaves_the_users_other_sessions_alone(
    store: SessionStore, new_user: NewUser
) -> None:
    user_id = await new_user()
    doomed, kept = a_session(user_id), a_session(user_id, at=START + 1)
    await store.create(doomed, LONG)
    await store.create(kept, LONG)
    await store.delete(doomed.id)
    assert await store.touch(kept.id, START + 2, LONG) is not None
    assert [s.id for s in await store.list_for_user(user_id, START + 2, LONG)] == [kept.id]


async def test_delete_for_user_ends_every_session_of_that_user_only(
    store: SessionStore, new_user: NewUser
) -> None:
    ada, grace = await new_user(), await new_user()
    adas = [a_session(ada, at=START + i) for i in range(3)]
    graces = a_session(grace)
    for session in [*adas, graces]:
        await store.create(session, LONG)
    assert await store.delete_for_user(ada) == 3
    for session in adas:
        assert await store.touch(session.id, START + 5, LONG) is None
    assert await store.list_for_user(ada, START + 5, LONG) == []
    assert await store.touch(graces.id, START + 5, LONG) is not None


async def test_delete_for_user_without_sessions_returns_zero(
    store: SessionStore, new_user: NewUser
) -> None:
    assert await store.delete_for_user(await new_user()) == 0


async def test_create_counts_the_users_sessions_with_the_new_one(
    store: SessionStore, new_user: NewUser
) -> None:
    ada, grace = await new_user(), await new_user()
    counts = [await store.create(a_session(ada, at=START + n), LONG) for n in range(3)]
    assert counts == [1, 2, 3]
    assert await store.create(a_session(grace), LONG) == 1  # another user's, apart
    doomed = a_session(ada, at=START + 3)
    assert await store.create(doomed, LONG) == 4
    await store.delete(doomed.id)
    assert await store.create(a_session(ada, at=START + 4), LONG) == 4


async def test_create_never_counts_fewer_than_the_live_sessions(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    # What the manager's per-user limit relies on: an expired session may still be
    # counted (Redis prunes its index lazily), a live one is never left out.
    user_id = await new_user()
    await store.create(a_session(user_id), 1)
    await store.create(a_session(user_id, at=START + 0.5), LONG)
    now = await timeline.wait(1.2)
    count = await store.create(a_session(user_id, at=now), LONG)
    assert count >= len(await store.list_for_user(user_id, now, LONG)) == 2


async def test_list_for_user_returns_live_sessions_oldest_first(
    store: SessionStore, new_user: NewUser
) -> None:
    user_id = await new_user()
    middle = a_session(user_id, at=START + 1, address="198.51.100.2", user_agent="middle")
    newest = a_session(user_id, at=START + 2, address="2001:db8::3", user_agent="newest")
    oldest = a_session(user_id, at=START, address="203.0.113.1", user_agent="oldest")
    for session in (middle, newest, oldest):
        await store.create(session, LONG)
    listed = await store.list_for_user(user_id, START + 3, LONG)
    assert [s.id for s in listed] == [oldest.id, middle.id, newest.id]
    assert [(s.address, s.user_agent, s.created_at) for s in listed] == [
        (s.address, s.user_agent, s.created_at) for s in (oldest, middle, newest)
    ]
    assert all(s.user_id == user_id for s in listed)


async def test_list_for_user_excludes_sessions_past_their_idle_expiry(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    user_id = await new_user()
    idle, live = a_session(user_id), a_session(user_id, at=START + 0.5)
    await store.create(idle, 1)
    await store.create(live, LONG)
    now = await timeline.wait(1.2)
    assert [s.id for s in await store.list_for_user(user_id, now, LONG)] == [live.id]


async def test_list_for_user_reports_when_a_session_was_last_seen(
    store: SessionStore, new_user: NewUser, timeline: Timeline
) -> None:
    session = a_session(await new_user())
    await store.create(session, LONG)
    now = await timeline.wait(1.2)
    await store.touch(session.id, now, LONG)
    [listed] = await store.list_for_user(session.user_id, now, LONG)
    assert listed.last_seen_at == pytest.approx(now, abs=0.5)


async def test_list_for_user_lists_no_other_users_sessions(
    store: SessionStore, new_user: NewUser
) -> None:
    ada, grace = await new_user(), await new_user()
    await store.create(a_session(grace), LONG)
    assert await store.list_for_user(ada, START, LONG) == []


# SQL keeps expired rows until a sweep; Redis expires keys by itself.


async def _rows(backends: Backends) -> set[str]:
    async with backends.engine.connect() as conn:
        return set((await conn.execute(select(sessions_table.c.id))).scalars())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sql_sweep_removes_idle_and_absolutely_expired_sessions_only(
    backends: Backends, store: SessionStore, new_user: NewUser
) -> None:
    user_id = await new_user()
    idle_expired = a_session(user_id, at=START - 100)
    absolutely_expired = a_session(user_id, at=START - 100, absolute=50)
    live = a_session(user_id)
    await store.create(idle_expired, 10)
    await store.create(absolutely_expired, LONG)
    await store.create(live, LONG)
    assert await backends.sweep(START) == 2
    assert await _rows(backends) == {live.id}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sql_sweep_keeps_a_session_that_touch_slid(
    backends: Backends, store: SessionStore, new_user: NewUser
) -> None:
    session = a_session(await new_user(), at=START - 100)
    await store.create(session, 60)
    assert await store.touch(session.id, START - 50, 60) is not None  # idle until START + 10
    assert await backends.sweep(START) == 0
    assert await _rows(backends) == {session.id}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sql_sweep_forgets_throttle_attempts_older_than_the_longest_window(
    backends: Backends,
) -> None:
    await backends.throttle.hit("login:acct:ada", START - 86_400, 900, 10)
    await backends.throttle.hit("login:acct:grace", START - 10, 900, 10)
    assert await backends.sweep(START) == 1
    async with backends.engine.connect() as conn:
        left = (await conn.execute(select(func.count()).select_from(throttle_hits))).scalar()
    assert left == 1
