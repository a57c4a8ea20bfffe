"""AuditStore contract (audit/store.py), sentence by sentence, on every backend."""

import pytest

from gatepass.audit.model import AuditEvent, AuditEventType
from gatepass.audit.store import AuditStore
from gatepass.storage.backends import Backends
from tests.contract.conftest import START, a_user


@pytest.fixture
def audit(backends: Backends) -> AuditStore:
    return backends.audit


def event(n: int, user_id: str | None = None) -> AuditEvent:
    return AuditEvent(at=START + n, type=AuditEventType.LOGIN_FAILED, user_id=user_id)


async def test_after_record_recent_lists_the_event_with_every_field(audit: AuditStore) -> None:
    recorded = AuditEvent(
        at=START + 0.25,
        type=AuditEventType.LOGIN_SUCCEEDED,
        user_id="3f8e2c1a-0000-4000-8000-000000000001",
        email="ada@example.com",
        address="2001:db8::1",
        user_agent="Mozilla/5.0",
        detail="password",
    )
    await audit.record(recorded)
    assert await audit.recent() == [recorded]


async def test_an_event_with_only_a_type_round_trips(audit: AuditStore) -> None:
    recorded = AuditEvent(at=START, type=AuditEventType.LOGIN_THROTTLED)
    await audit.record(recorded)
    assert await audit.recent() == [recorded]


async def test_recent_lists_newest_first(audit: AuditStore) -> None:
    events = [event(n) for n in range(5)]
    for recorded in events:
        await audit.record(recorded)
    assert await audit.recent() == list(reversed(events))


async def test_recent_returns_at_most_limit_newest_events(audit: AuditStore) -> None:
    events = [event(n) for n in range(5)]
    for recorded in events:
        await audit.record(recorded)
    assert await audit.recent(limit=2) == [events[4], events[3]]


async def test_recent_for_a_user_lists_only_that_users_events(audit: AuditStore) -> None:
    ada, grace = "ada-id", "grace-id"
    await audit.record(event(1, ada))
    await audit.record(event(2, grace))
    await audit.record(event(3))
    await audit.record(event(4, ada))
    assert await audit.recent(user_id=ada) == [event(4, ada), event(1, ada)]
    assert await audit.recent(user_id="nobody") == []


async def test_recording_the_same_event_twice_appends_two_entries(audit: AuditStore) -> None:
    await audit.record(event(1, "ada-id"))
    await audit.record(event(1, "ada-id"))
    assert await audit.recent() == [event(1, "ada-id"), event(1, "ada-id")]


async def test_deleting_a_user_keeps_their_events(backends: Backends, audit: AuditStore) -> None:
    user = a_user()
    await backends.users.add(user)
    await audit.record(AuditEvent(at=START, type=AuditEventType.SIGNUP, user_id=user.id))
    assert await backends.users.delete(user.id) is True
    assert await audit.recent(user_id=user.id) == [
        AuditEvent(at=START, type=AuditEventType.SIGNUP, user_id=user.id)
    ]


async def test_forget_strips_personal_data_of_the_user_and_the_address(
    audit: AuditStore,
) -> None:
    user = a_user()
    theirs = AuditEvent(
        at=START,
        type=AuditEventType.LOGIN_SUCCEEDED,
        user_id=user.id,
        email=user.email,
        address="203.0.113.9",
        user_agent="Mozilla/5.0",
        detail="password",
    )
    by_address = AuditEvent(at=START + 1, type=AuditEventType.LOGIN_FAILED, email=user.email)
    other = AuditEvent(
        at=START + 2, type=AuditEventType.LOGIN_FAILED, email="bob@example.com", address="x"
    )
    for recorded in (theirs, by_address, other):
        await audit.record(recorded)
    assert await audit.forget(user.id, user.email) == 2
    events = await audit.recent()
    assert events[0] == other
    assert events[1] == AuditEvent(at=START + 1, type=AuditEventType.LOGIN_FAILED)
    assert events[2] == AuditEvent(
        at=START, type=AuditEventType.LOGIN_SUCCEEDED, user_id=user.id, detail="password"
    )
