"""AccountLinkStore contract (accounts/link_store.py), sentence by sentence, on SQLite and
PostgreSQL (links are durable records: they live in SQL whatever holds the sessions)."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from gatepass.accounts.link_store import AccountLink, AccountLinkStore
from gatepass.accounts.links import AccountLinks, LinkPurpose
from gatepass.clock import FixedClock
from gatepass.crypto.secrets import digest
from gatepass.storage.backends import Backends
from tests.contract.conftest import START

RESET = "reset-password"
VERIFY = "verify-email"


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(backends: Backends) -> AccountLinkStore:
    return backends.account_links


def a_link(
    user_id: str, purpose: str = RESET, *, name: str = "t", ttl: float = 1800
) -> AccountLink:
    return AccountLink(
        id=digest(name * 43 if len(name) == 1 else name),
        purpose=purpose,
        user_id=user_id,
        email="ada@example.com",
        created_at=START,
        expires_at=START + ttl,
    )


async def test_after_add_find_returns_the_live_link(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    link = a_link(await new_user())
    await store.add(link)
    assert await store.find(link.id, RESET, START + 1) == link


async def test_a_link_is_not_found_for_another_purpose_nor_once_expired(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    link = a_link(await new_user())
    await store.add(link)
    assert await store.find(link.id, VERIFY, START + 1) is None
    assert await store.find(link.id, RESET, link.expires_at) is None
    assert await store.consume(link.id, VERIFY, START + 1) is None
    assert await store.consume(link.id, RESET, link.expires_at) is None


async def test_consume_returns_the_link_once(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    link = a_link(await new_user())
    await store.add(link)
    used = await store.consume(link.id, RESET, START + 5)
    assert used == dataclasses.replace(link, used_at=START + 5)
    assert await store.consume(link.id, RESET, START + 6) is None
    assert await store.find(link.id, RESET, START + 6) is None


async def test_of_concurrent_consumes_exactly_one_gets_the_link(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    link = a_link(await new_user())
    await store.add(link)
    results = await asyncio.gather(*(store.consume(link.id, RESET, START + 1) for _ in range(8)))
    assert sum(result is not None for result in results) == 1


async def test_void_uses_up_one_users_links_of_one_purpose_only(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    ada, grace = await new_user(), await new_user()
    mine = [a_link(ada, name="a"), a_link(ada, name="b")]
    other_purpose = a_link(ada, VERIFY, name="c")
    other_user = a_link(grace, name="d")
    for link in (*mine, other_purpose, other_user):
        await store.add(link)
    assert await store.void(ada, RESET, START + 1) == 2
    assert [await store.find(x.id, RESET, START + 2) for x in mine] == [None, None]
    assert await store.find(other_purpose.id, VERIFY, START + 2) == other_purpose
    assert await store.find(other_user.id, RESET, START + 2) == other_user


async def test_sweep_deletes_expired_links_only(
    store: AccountLinkStore, new_user: Callable[[], Awaitable[str]]
) -> None:
    user = await new_user()
    short, long = a_link(user, name="s", ttl=10), a_link(user, name="l", ttl=100)
    await store.add(short)
    await store.add(long)
    assert await store.sweep(START + 50) == 1
    assert await store.find(long.id, RESET, START + 50) == long


async def test_deleting_the_user_deletes_their_links(
    store: AccountLinkStore, backends: Backends, new_user: Callable[[], Awaitable[str]]
) -> None:
    user = await new_user()
    link = a_link(user)
    await store.add(link)
    await backends.users.delete(user)
    assert await store.find(link.id, RESET, START + 1) is None


async def test_the_core_stores_only_the_digest_and_voids_sibling_resets(
    store: AccountLinkStore, backends: Backends, new_user: Callable[[], Awaitable[str]]
) -> None:
    user = await new_user()
    links = AccountLinks(store, FixedClock(START))
    first = await links.issue(LinkPurpose.RESET_PASSWORD, user, "ada@example.com")
    second = await links.issue(LinkPurpose.RESET_PASSWORD, user, "ada@example.com")
    assert first.link.id == digest(first.token) != first.token
    assert await links.consume(LinkPurpose.RESET_PASSWORD, second.token) is not None
    assert await links.find(LinkPurpose.RESET_PASSWORD, first.token) is None


@pytest.mark.parametrize(
    "token", ["", "short", "é" * 43, "a" * 44], ids=["empty", "short", "non-ascii", "long"]
)
async def test_the_core_refuses_garbage_before_storage(store: AccountLinkStore, token: str) -> None:
    links = AccountLinks(store, FixedClock(START))
    assert await links.consume(LinkPurpose.VERIFY_EMAIL, token) is None
