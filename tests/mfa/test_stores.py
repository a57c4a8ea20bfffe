"""TotpStore and RecoveryCodeStore contracts (mfa/store.py) on SQLite and PostgreSQL:
single use holds even for requests that race."""

import asyncio

import pytest
from sqlalchemy import text

from gatepass.mfa.store import RecoveryCodeStore, TotpStore
from gatepass.storage.backends import Backends
from gatepass.storage.sql.second_factors import (
    SqlPasskeyPresence,
    SqlRecoveryCodeStore,
    SqlTotpStore,
)
from tests.mfa.conftest import add_user

NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    # The second-factor tables are SQL whatever holds the sessions.
    name: str = request.param
    return name


@pytest.fixture
def totps(backends: Backends) -> TotpStore:
    return SqlTotpStore(backends.engine)


@pytest.fixture
def codes(backends: Backends) -> RecoveryCodeStore:
    return SqlRecoveryCodeStore(backends.engine)


async def test_a_begun_factor_is_unconfirmed_until_confirmed(
    backends: Backends, totps: TotpStore
) -> None:
    user = await add_user(backends)
    assert await totps.get(user.id) is None
    assert await totps.begin(user.id, "v1.sealed", NOW)
    begun = await totps.get(user.id)
    assert begun is not None
    assert (begun.sealed_secret, begun.confirmed_at, begun.last_used_step) == ("v1.sealed", None, 0)
    assert await totps.confirm(user.id, 60_000_000, NOW + 5)
    confirmed = await totps.get(user.id)
    assert confirmed is not None
    assert (confirmed.confirmed_at, confirmed.last_used_step) == (NOW + 5, 60_000_000)
    assert not await totps.confirm(user.id, 60_000_001, NOW + 6)  # once


async def test_begin_replaces_an_unconfirmed_factor_but_never_a_confirmed_one(
    backends: Backends, totps: TotpStore
) -> None:
    user = await add_user(backends)
    await totps.begin(user.id, "v1.first", NOW)
    assert await totps.begin(user.id, "v1.second", NOW + 1)
    second = await totps.get(user.id)
    assert second is not None
    assert second.sealed_secret == "v1.second"
    await totps.confirm(user.id, 5, NOW + 2)
    assert not await totps.begin(user.id, "v1.third", NOW + 3)
    kept = await totps.get(user.id)
    assert kept is not None
    assert kept.sealed_secret == "v1.second"


async def test_use_step_accepts_only_later_steps_of_a_confirmed_factor(
    backends: Backends, totps: TotpStore
) -> None:
    user = await add_user(backends)
    await totps.begin(user.id, "v1.s", NOW)
    assert not await totps.use_step(user.id, 10)  # unconfirmed: no code counts
    await totps.confirm(user.id, 10, NOW)
    assert not await totps.use_step(user.id, 10)
    assert not await totps.use_step(user.id, 9)
    assert await totps.use_step(user.id, 11)
    assert not await totps.use_step(user.id, 11)
    assert not await totps.use_step("no-such-user", 12)


async def test_of_racing_uses_of_one_step_exactly_one_succeeds(
    backends: Backends, totps: TotpStore
) -> None:
    user = await add_user(backends)
    await totps.begin(user.id, "v1.s", NOW)
    await totps.confirm(user.id, 10, NOW)
    results = await asyncio.gather(*(totps.use_step(user.id, 11) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_delete_removes_the_factor(backends: Backends, totps: TotpStore) -> None:
    user = await add_user(backends)
    await totps.begin(user.id, "v1.s", NOW)
    assert await totps.delete(user.id)
    assert await totps.get(user.id) is None
    assert not await totps.delete(user.id)


async def test_recovery_codes_are_used_once_and_counted(
    backends: Backends, codes: RecoveryCodeStore
) -> None:
    user, other = await add_user(backends), await add_user(backends)
    digests = [f"{i:064x}" for i in range(10)]
    await codes.replace(user.id, digests, NOW)
    assert await codes.remaining(user.id) == 10
    assert not await codes.use(other.id, digests[0], NOW)  # another user's code
    assert await codes.use(user.id, digests[0], NOW)
    assert not await codes.use(user.id, digests[0], NOW)
    assert not await codes.use(user.id, "f" * 64, NOW)
    assert await codes.remaining(user.id) == 9


async def test_of_racing_uses_of_one_recovery_code_exactly_one_succeeds(
    backends: Backends, codes: RecoveryCodeStore
) -> None:
    user = await add_user(backends)
    await codes.replace(user.id, ["a" * 64, "b" * 64], NOW)
    results = await asyncio.gather(*(codes.use(user.id, "a" * 64, NOW) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_replace_drops_every_old_code_used_or_not(
    backends: Backends, codes: RecoveryCodeStore
) -> None:
    user = await add_user(backends)
    await codes.replace(user.id, ["a" * 64, "b" * 64], NOW)
    await codes.use(user.id, "a" * 64, NOW)
    await codes.replace(user.id, ["c" * 64], NOW + 1)
    assert await codes.remaining(user.id) == 1
    assert not await codes.use(user.id, "b" * 64, NOW + 2)
    assert await codes.delete_all(user.id) == 1
    assert await codes.remaining(user.id) == 0


async def test_deleting_the_user_deletes_their_factors_and_codes(
    backends: Backends, totps: TotpStore, codes: RecoveryCodeStore
) -> None:
    user = await add_user(backends)
    await totps.begin(user.id, "v1.s", NOW)
    await codes.replace(user.id, ["a" * 64], NOW)
    if backends.engine.dialect.name == "sqlite":
        async with backends.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    assert await backends.users.delete(user.id)
    assert await totps.get(user.id) is None
    assert await codes.remaining(user.id) == 0


async def test_passkey_presence_reads_and_empties_the_passkeys_table(backends: Backends) -> None:
    user = await add_user(backends)
    presence = SqlPasskeyPresence(backends.engine)
    assert not await presence.has_factor(user.id)
    async with backends.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO passkeys (credential_id, user_id, name, public_key, created_at) "
                "VALUES ('cred-1', :u, 'Key', 'pk', 1)"
            ),
            {"u": user.id},
        )
    assert await presence.has_factor(user.id)
    assert await presence.delete_all(user.id) == 1
    assert not await presence.has_factor(user.id)
