"""PasskeyStore contract (mfa/passkey_store.py) on SQLite and PostgreSQL, and the
ChallengeRegister on every throttle store (SQL and Redis)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gatepass.mfa.passkey_store import DuplicatePasskey, Passkey
from gatepass.storage.backends import Backends
from gatepass.storage.challenges import ThrottleChallengeRegister
from gatepass.storage.sql.passkeys import SqlPasskeyStore
from tests.contract.conftest import START, a_user
from tests.support import settings_for
from tests.support import test_backends as opened_backends


async def _user(backends: Backends) -> str:
    user = a_user()
    await backends.users.add(user)
    return user.id


def _passkey(user_id: str, credential_id: str, at: float = START) -> Passkey:
    return Passkey(
        credential_id=credential_id,
        user_id=user_id,
        name="YubiKey 5",
        public_key="pQECAyYgASFYIA",
        sign_count=0,
        transports=("nfc", "usb"),
        backed_up=False,
        created_at=at,
    )


async def test_added_passkeys_are_found_by_id_and_by_owner_oldest_first(
    sql_backends: Backends,
) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada = await _user(sql_backends)
    later, earlier = _passkey(ada, "bbbb", START + 5), _passkey(ada, "aaaa" * 340)
    await store.add(later)
    await store.add(earlier)
    assert await store.get("bbbb") == later
    assert await store.for_user(ada) == [earlier, later]
    assert await store.get("cccc") is None
    assert await store.for_user(await _user(sql_backends)) == []


async def test_a_credential_id_is_registered_once_for_anyone(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada, bob = await _user(sql_backends), await _user(sql_backends)
    await store.add(_passkey(ada, "same"))
    with pytest.raises(DuplicatePasskey):
        await store.add(_passkey(bob, "same"))
    assert await store.for_user(bob) == []
    assert (await store.get("same")) == _passkey(ada, "same")


async def test_record_use_is_a_compare_and_set_on_the_counter(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada = await _user(sql_backends)
    await store.add(_passkey(ada, "key"))
    assert await store.record_use("key", 0, 7, True, START + 1)
    # A second use that saw the same old counter loses: a clone, or a race.
    assert not await store.record_use("key", 0, 8, False, START + 2)
    stored = await store.get("key")
    assert stored is not None
    assert (stored.sign_count, stored.backed_up, stored.last_used_at) == (7, True, START + 1)
    assert not await store.record_use("unknown", 0, 1, False, START)


async def test_concurrent_uses_with_the_same_counter_one_wins(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada = await _user(sql_backends)
    await store.add(_passkey(ada, "key"))
    won = await asyncio.gather(*(store.record_use("key", 0, n, False, START) for n in range(1, 9)))
    assert won.count(True) == 1


async def test_delete_removes_only_the_owners_passkey(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada, bob = await _user(sql_backends), await _user(sql_backends)
    await store.add(_passkey(ada, "key"))
    assert not await store.delete(bob, "key")
    assert await store.delete(ada, "key")
    assert await store.get("key") is None
    assert not await store.delete(ada, "key")


async def test_deleting_the_user_deletes_their_passkeys(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    ada = await _user(sql_backends)
    await store.add(_passkey(ada, "key"))
    assert await sql_backends.users.delete(ada)
    assert await store.get("key") is None


async def test_a_passkey_for_no_user_is_refused(sql_backends: Backends) -> None:
    store = SqlPasskeyStore(sql_backends.engine)
    with pytest.raises(Exception, match="no such user"):
        await store.add(_passkey("00000000-0000-0000-0000-000000000000", "key"))


@pytest.fixture(params=("sqlite", "postgres", "redis"))
async def any_backends(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, redis_prefix: str
) -> AsyncIterator[Backends]:
    settings = settings_for(request.param, tmp_path, postgres_url, redis_prefix)
    async with opened_backends(settings) as opened:
        yield opened


async def test_a_challenge_is_answered_first_once_even_concurrently(
    any_backends: Backends,
) -> None:
    register = ThrottleChallengeRegister(any_backends.throttle)
    firsts = await asyncio.gather(*(register.first_use("c1", START, 60) for _ in range(10)))
    assert firsts.count(True) == 1
    assert await register.first_use("c2", START, 60)
    assert not await register.first_use("c1", START + 1, 60)
