"""UserStore contract (accounts/store.py), sentence by sentence, on every backend."""

import dataclasses

import pytest

from gatepass.accounts.store import DuplicateEmail, UserStore
from gatepass.storage.backends import Backends
from tests.contract.conftest import START, a_user


@pytest.fixture
def users(backends: Backends) -> UserStore:
    return backends.users


async def test_after_add_get_returns_the_user(users: UserStore) -> None:
    user = a_user("ada@example.com")
    await users.add(user)
    assert await users.get(user.id) == user


async def test_after_add_find_by_email_returns_the_user(users: UserStore) -> None:
    user = a_user("ada@example.com")
    await users.add(user)
    assert await users.find_by_email("ada@example.com") == user


async def test_a_user_without_a_password_round_trips(users: UserStore) -> None:
    user = dataclasses.replace(a_user(), password_hash=None, disabled=True, name="")
    await users.add(user)
    assert await users.get(user.id) == user


async def test_unknown_users_are_not_found(users: UserStore) -> None:
    await users.add(a_user("ada@example.com"))
    assert await users.get("00000000-0000-0000-0000-000000000000") is None
    assert await users.find_by_email("grace@example.com") is None


async def test_a_second_add_with_the_same_email_raises_duplicate_email(users: UserStore) -> None:
    await users.add(a_user("ada@example.com"))
    with pytest.raises(DuplicateEmail):
        await users.add(a_user("ada@example.com"))


async def test_a_duplicate_email_writes_nothing(users: UserStore) -> None:
    first = a_user("ada@example.com")
    await users.add(first)
    second = dataclasses.replace(a_user("ada@example.com"), name="Impostor")
    with pytest.raises(DuplicateEmail):
        await users.add(second)
    assert await users.get(second.id) is None
    assert await users.find_by_email("ada@example.com") == first
    assert await users.list_all() == [first]


async def test_update_of_the_password_hash_changes_only_that_field(users: UserStore) -> None:
    user = a_user()
    await users.add(user)
    updated = await users.update(user.id, now=START + 60, password_hash="$argon2id$new")
    expected = dataclasses.replace(user, password_hash="$argon2id$new", updated_at=START + 60)
    assert updated == expected
    assert await users.get(user.id) == expected


async def test_update_of_disabled_changes_only_that_field(users: UserStore) -> None:
    user = a_user()
    await users.add(user)
    updated = await users.update(user.id, now=START + 60, disabled=True)
    expected = dataclasses.replace(user, disabled=True, updated_at=START + 60)
    assert updated == expected
    assert await users.get(user.id) == expected


async def test_update_can_enable_a_disabled_user_again(users: UserStore) -> None:
    user = dataclasses.replace(a_user(), disabled=True)
    await users.add(user)
    updated = await users.update(user.id, now=START + 1, disabled=False)
    assert updated is not None
    assert updated.disabled is False


async def test_update_leaves_other_users_alone(users: UserStore) -> None:
    ada, grace = a_user("ada@example.com"), a_user("grace@example.com")
    await users.add(ada)
    await users.add(grace)
    await users.update(ada.id, now=START + 1, disabled=True, password_hash="$argon2id$x")
    assert await users.get(grace.id) == grace


async def test_update_of_a_missing_user_returns_none_and_writes_nothing(
    users: UserStore,
) -> None:
    missing = a_user()
    assert await users.update(missing.id, now=START, disabled=True) is None
    assert await users.get(missing.id) is None
    assert await users.list_all() == []


async def test_after_delete_neither_lookup_finds_the_user(users: UserStore) -> None:
    user = a_user("ada@example.com")
    await users.add(user)
    assert await users.delete(user.id) is True
    assert await users.get(user.id) is None
    assert await users.find_by_email("ada@example.com") is None


async def test_delete_of_a_missing_user_reports_false(users: UserStore) -> None:
    assert await users.delete(a_user().id) is False


async def test_a_deleted_users_email_can_be_used_again(users: UserStore) -> None:
    first = a_user("ada@example.com")
    await users.add(first)
    await users.delete(first.id)
    second = a_user("ada@example.com")
    await users.add(second)
    assert await users.find_by_email("ada@example.com") == second


async def test_list_all_lists_every_user_up_to_the_limit(users: UserStore) -> None:
    added = [a_user(at=START + i) for i in range(3)]
    for user in reversed(added):
        await users.add(user)
    assert sorted(await users.list_all(), key=lambda u: u.created_at) == added
    assert len(await users.list_all(limit=2)) == 2
