"""RevocationStore contract (tokens/store.py), sentence by sentence, on every backend.

The log is SQL whatever holds the sessions (SECURITY.md decision 6), so every backend
runs it on SQLite or PostgreSQL; the Redis backend adds the feed (test_revocation_feed.py).
"""

import asyncio
import uuid

import pytest

from gatepass.storage.backends import Backends
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind
from gatepass.tokens.store import RevocationStore
from tests.contract.conftest import START

ADDED = (RevocationKind.TOKEN, RevocationKind.GRANT, RevocationKind.SESSION)
SUBJECT = RevocationKind.SUBJECT


@pytest.fixture
def store(backends: Backends) -> RevocationStore:
    return backends.revocations


def an_id() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize("kind", ADDED, ids=[f"a revoked {kind} is found" for kind in ADDED])
async def test_a_revocation_is_found_until_its_end_and_not_after(
    store: RevocationStore, kind: RevocationKind
) -> None:
    value = an_id()
    event = await store.add(kind, value, at=START, until=START + 900)
    assert event is not None
    assert (event.kind, event.id, event.at, event.until) == (kind, value, START, START + 900)
    assert event.seq > 0
    assert await store.find([(kind, value)], START) == [event]
    assert await store.find([(kind, value)], START + 899) == [event]
    assert await store.find([(kind, value)], START + 900) == []


async def test_a_second_revocation_of_the_same_thing_changes_nothing(
    store: RevocationStore,
) -> None:
    value = an_id()
    first = await store.add(RevocationKind.GRANT, value, at=START, until=START + 900)
    assert await store.add(RevocationKind.GRANT, value, at=START + 1, until=START + 5000) is None
    assert await store.find([(RevocationKind.GRANT, value)], START) == [first]
    assert await store.find([(RevocationKind.GRANT, value)], START + 900) == []


async def test_the_same_id_under_another_kind_is_another_revocation(
    store: RevocationStore,
) -> None:
    value = an_id()
    token = await store.add(RevocationKind.TOKEN, value, at=START, until=START + 900)
    grant = await store.add(RevocationKind.GRANT, value, at=START, until=START + 900)
    assert token is not None
    assert grant is not None
    assert await store.find([(RevocationKind.SESSION, value)], START) == []
    assert await store.find([(RevocationKind.GRANT, value)], START) == [grant]


async def test_find_returns_every_live_match_among_the_keys_asked(
    store: RevocationStore,
) -> None:
    jti, gid, sub, unrelated = an_id(), an_id(), an_id(), an_id()
    token = await store.add(RevocationKind.TOKEN, jti, at=START, until=START + 900)
    grant = await store.add(RevocationKind.GRANT, gid, at=START, until=START + 60)
    subject = await store.set_not_before(sub, at=START, until=START + 3600)
    await store.add(RevocationKind.TOKEN, unrelated, at=START, until=START + 900)
    keys = [(RevocationKind.TOKEN, jti), (RevocationKind.GRANT, gid), (SUBJECT, sub)]
    found = sorted(await store.find(keys, START + 1), key=lambda e: e.seq)
    assert found == [token, grant, subject]
    assert {e.kind for e in await store.find(keys, START + 60)} == {
        RevocationKind.TOKEN,
        SUBJECT,
    }
    assert await store.find([], START) == []


async def test_a_thing_never_revoked_is_not_found(store: RevocationStore) -> None:
    await store.add(RevocationKind.TOKEN, an_id(), at=START, until=START + 900)
    assert await store.find([(RevocationKind.TOKEN, an_id())], START) == []


@pytest.mark.parametrize("kind", ADDED, ids=[f"racing revocations of a {k}" for k in ADDED])
async def test_only_the_first_of_concurrent_revocations_gets_the_event(
    store: RevocationStore, kind: RevocationKind
) -> None:
    value = an_id()
    results = await asyncio.gather(
        *(store.add(kind, value, at=START, until=START + 900 + i) for i in range(10))
    )
    events = [r for r in results if r is not None]
    assert len(events) == 1
    assert await store.find([(kind, value)], START + 899) == events


async def test_a_subject_revocation_is_not_added_but_set(store: RevocationStore) -> None:
    with pytest.raises(ValueError, match="set_not_before"):
        await store.add(SUBJECT, an_id(), at=START, until=START + 900)


async def test_a_later_not_before_replaces_the_earlier_with_a_new_seq(
    store: RevocationStore,
) -> None:
    user, other = an_id(), an_id()
    first = await store.set_not_before(user, at=START, until=START + 3600)
    neighbour = await store.set_not_before(other, at=START, until=START + 3600)
    second = await store.set_not_before(user, at=START + 10, until=START + 3610)
    assert first is not None
    assert second is not None
    assert neighbour is not None
    assert second.seq > neighbour.seq > first.seq
    assert await store.find([(SUBJECT, user)], START) == [second]
    # The replaced record is gone from the log too: one row per subject.
    assert [e.seq for e in await store.since(0, 100) if e.id == user] == [second.seq]
    assert await store.find([(SUBJECT, other)], START) == [neighbour]


async def test_an_earlier_not_before_changes_nothing(store: RevocationStore) -> None:
    user = an_id()
    standing = await store.set_not_before(user, at=START + 10, until=START + 3610)
    assert await store.set_not_before(user, at=START + 5, until=START + 3605) is None
    assert await store.find([(SUBJECT, user)], START) == [standing]


async def test_concurrent_not_befores_leave_one_record_the_latest(
    store: RevocationStore,
) -> None:
    user = an_id()
    results = await asyncio.gather(
        *(store.set_not_before(user, at=START + i, until=START + 3600 + i) for i in range(8))
    )
    assert any(r is not None for r in results)
    (standing,) = await store.find([(SUBJECT, user)], START)
    assert standing.at == START + 7
    assert standing in results


async def test_since_returns_the_log_in_seq_order_page_by_page(
    store: RevocationStore,
) -> None:
    added: list[RevocationEvent] = []
    for i in range(7):
        kind = ADDED[i % len(ADDED)]
        event = await store.add(kind, an_id(), at=START + i, until=START + 900)
        assert event is not None
        added.append(event)
    everything = await store.since(0, 100)
    assert everything == added
    seqs = [e.seq for e in everything]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)

    pages, cursor = [], 0
    while page := await store.since(cursor, 3):
        assert len(page) <= 3
        pages.append(page)
        cursor = page[-1].seq
    assert [e for page in pages for e in page] == added
    assert await store.since(added[-1].seq, 10) == []


async def test_a_reader_resuming_from_its_last_seq_misses_no_concurrent_write(
    store: RevocationStore,
) -> None:
    """Seq grows in commit order: on PostgreSQL, two writers could otherwise commit seq 8
    before seq 7 and a reader that saw 8 would pass 7 by for good."""
    written: list[RevocationEvent | None] = []
    seen: list[RevocationEvent] = []
    done = asyncio.Event()

    async def write() -> None:
        written.extend(
            await asyncio.gather(
                *(
                    store.add(RevocationKind.TOKEN, an_id(), at=START, until=START + 900)
                    for _ in range(30)
                )
            )
        )
        done.set()

    async def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            page = await store.since(cursor, 1000)
            seen.extend(page)
            cursor = page[-1].seq if page else cursor
            if finished:
                return
            await asyncio.sleep(0)

    await asyncio.gather(write(), read())
    assert None not in written
    assert sorted(seen, key=lambda e: e.seq) == seen
    assert {e.seq for e in seen} == {e.seq for e in written if e is not None}


async def test_sweep_forgets_expired_revocations_and_keeps_live_ones(
    backends: Backends,
) -> None:
    store = backends.revocations
    gone = await store.add(RevocationKind.GRANT, an_id(), at=START, until=START + 10)
    kept = await store.add(RevocationKind.SESSION, an_id(), at=START, until=START + 11)
    old_subject = await store.set_not_before(an_id(), at=START, until=START + 10)
    assert gone is not None
    assert kept is not None
    assert old_subject is not None
    assert await backends.sweep(START + 10) >= 2
    assert await store.find([(gone.kind, gone.id)], START) == []
    assert await store.find([(SUBJECT, old_subject.id)], START) == []
    assert await store.since(0, 100) == [kept]


async def test_seq_keeps_growing_after_the_newest_record_is_swept(
    backends: Backends,
) -> None:
    """A reused seq would be skipped by every reader past it (SQLite needs AUTOINCREMENT)."""
    store = backends.revocations
    first = await store.add(RevocationKind.TOKEN, an_id(), at=START, until=START + 10)
    await backends.sweep(START + 10)
    second = await store.add(RevocationKind.TOKEN, an_id(), at=START + 10, until=START + 20)
    assert first is not None
    assert second is not None
    assert second.seq > first.seq
