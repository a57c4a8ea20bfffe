"""ThrottleStore contract (throttle/store.py), sentence by sentence, on every backend.

Every backend judges the window from the `now` it is given (Redis uses it as the
sorted-set score), so plain arithmetic on `now` moves time here.
"""

import asyncio

import pytest

from gatepass.storage.backends import Backends
from gatepass.throttle.store import ThrottleStore, WindowCount
from tests.contract.conftest import START

WINDOW = 60


@pytest.fixture
def store(backends: Backends) -> ThrottleStore:
    return backends.throttle


async def hits(store: ThrottleStore, key: str, offsets: list[float], limit: int) -> list[int]:
    return [(await store.hit(key, START + at, WINDOW, limit)).count for at in offsets]


async def test_hit_counts_every_attempt_in_the_window_this_one_included(
    store: ThrottleStore,
) -> None:
    assert await hits(store, "k", [0, 1, 2, 2], limit=10) == [1, 2, 3, 4]


async def test_hit_forgets_attempts_older_than_the_window(store: ThrottleStore) -> None:
    assert await hits(store, "k", [0, 10, WINDOW + 5], limit=10) == [1, 2, 2]
    assert await hits(store, "k", [WINDOW + 11], limit=10) == [2]


async def test_an_attempt_exactly_one_window_old_is_forgotten(store: ThrottleStore) -> None:
    assert await hits(store, "k", [0, WINDOW], limit=10) == [1, 1]


async def test_keys_are_counted_apart(store: ThrottleStore) -> None:
    await hits(store, "login:acct:ada", [0, 1, 2], limit=10)
    assert await hits(store, "login:acct:grace", [3], limit=10) == [1]
    assert await hits(store, "login:acct:ada", [4], limit=10) == [4]


async def test_fifty_concurrent_hits_raise_the_count_by_exactly_fifty(
    store: ThrottleStore,
) -> None:
    assert await hits(store, "k", [0], limit=10) == [1]
    results = await asyncio.gather(*(store.hit("k", START + 1, WINDOW, 10) for _ in range(50)))
    # Atomic: every hit saw a count of its own, none saw another's half-done write.
    assert sorted(r.count for r in results) == list(range(2, 52))
    assert await hits(store, "k", [2], limit=10) == [52]


async def test_retry_after_is_zero_while_another_attempt_would_be_within_the_limit(
    store: ThrottleStore,
) -> None:
    for at in (0, 1):
        verdict = await store.hit("k", START + at, WINDOW, 3)
        assert verdict.retry_after_seconds == 0


@pytest.mark.parametrize(
    ("limit", "offsets", "retry_after"),
    [
        pytest.param(3, [0, 10, 20], 40, id="at the limit, the oldest attempt must age out"),
        pytest.param(2, [0, 1, 2, 3], 59, id="over the limit, all but the newest one must"),
        pytest.param(1, [0], 60, id="a limit of one waits a whole window"),
        pytest.param(3, [0, 0, 0, 0, 0], 60, id="a burst at one instant waits a whole window"),
    ],
)
async def test_retry_after_is_how_long_until_an_attempt_would_be_within_the_limit(
    store: ThrottleStore, limit: int, offsets: list[float], retry_after: float
) -> None:
    last = None
    for at in offsets:
        last = await store.hit("early", START + at, WINDOW, limit)
        await store.hit("on-time", START + at, WINDOW, limit)
    assert last is not None
    assert last.retry_after_seconds == pytest.approx(retry_after)
    now = START + offsets[-1]
    early = await store.hit("early", now + retry_after - 1, WINDOW, limit)
    on_time = await store.hit("on-time", now + retry_after, WINDOW, limit)
    assert early.count > limit
    assert on_time.count <= limit


async def test_after_clear_the_count_starts_from_zero(store: ThrottleStore) -> None:
    await hits(store, "k", [0, 1, 2], limit=2)
    await store.clear("k")
    verdict = await store.hit("k", START + 3, WINDOW, 2)
    assert (verdict.count, verdict.retry_after_seconds) == (1, 0)


async def test_clear_forgets_only_its_own_key(store: ThrottleStore) -> None:
    await hits(store, "login:acct:ada", [0, 1], limit=10)
    await hits(store, "login:addr:192.0.2.1", [0, 1], limit=10)
    await store.clear("login:acct:ada")
    assert await hits(store, "login:addr:192.0.2.1", [2], limit=10) == [3]


async def test_clear_of_an_unknown_key_does_nothing(store: ThrottleStore) -> None:
    await store.clear("never-hit")
    assert await hits(store, "never-hit", [0], limit=10) == [1]


async def peek_one(store: ThrottleStore, key: str, now: float, limit: int) -> WindowCount:
    [verdict] = await store.peek([(key, limit)], now, WINDOW)
    return verdict


async def test_peek_counts_the_window_without_recording_an_attempt(store: ThrottleStore) -> None:
    assert (await peek_one(store, "k", START, 2)).count == 0
    await hits(store, "k", [0, 10, 20], limit=2)
    first = await peek_one(store, "k", START + 30, 2)
    again = await peek_one(store, "k", START + 30, 2)
    assert (first.count, again.count) == (3, 3)
    # The next attempt fits once the two oldest (at 0 and 10) have aged out.
    assert first.retry_after_seconds == WINDOW + 10 - 30
    assert (await peek_one(store, "k", START + WINDOW + 15, 2)).count == 1
    assert await hits(store, "k", [WINDOW + 15], limit=2) == [2]


async def test_peek_answers_for_several_keys_each_with_its_own_limit(
    store: ThrottleStore,
) -> None:
    await hits(store, "a", [0, 5, 10], limit=10)
    await hits(store, "b", [0], limit=10)
    a, b, c = await store.peek([("a", 2), ("b", 5), ("c", 1)], START + 20, WINDOW)
    assert (a.count, b.count, c.count) == (3, 1, 0)
    assert a.retry_after_seconds == WINDOW + 5 - 20
    assert (b.retry_after_seconds, c.retry_after_seconds) == (0.0, 0.0)
