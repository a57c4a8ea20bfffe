"""AuthorizationCodeStore contract (oauth/code_store.py), sentence by sentence, on every backend.

SQL judges expiry by the `now` it is given; Redis by real key TTLs. `wait` moves both,
so the few expiry tests really sleep a second or two on Redis.
"""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gatepass.clock import FixedClock
from gatepass.crypto.secrets import digest, new_secret
from gatepass.oauth.code_store import AuthorizationCode, AuthorizationCodeStore
from gatepass.storage.backends import Backends

LONG = 600  # a lifetime no test outlives
Wait = Callable[[float], Awaitable[float]]


def a_code(at: float, *, ttl: int = LONG, **changes: Any) -> AuthorizationCode:
    code = AuthorizationCode(
        digest=digest(new_secret()),
        client_id="gpc_" + "c" * 43,
        redirect_uri="https://app.example.com/cb?tenant=7",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        user_id="6f1c0b0e-3c1a-4d0b-9a65-7d6c2b8e4f10",
        session_id=digest(new_secret()),
        scopes=("openid", "profile", "api:read"),
        auth_time=at - 30.5,
        issued_at=at,
        expires_at=at + ttl,
        nonce="n-0S6_WzA2Mj",
        resource="https://api.example.com/v1",
    )
    return dataclasses.replace(code, **changes)


@pytest.fixture
def store(backends: Backends) -> AuthorizationCodeStore:
    return backends.codes


@pytest.fixture
def wait(backend: str, clock: FixedClock) -> Wait:
    async def wait(seconds: float) -> float:
        clock.advance(seconds)
        if backend == "redis":
            await asyncio.sleep(seconds)
        return clock.now()

    return wait


async def consume(
    store: AuthorizationCodeStore, key: str, now: float, grant_id: str = "g1"
) -> AuthorizationCode | None:
    return await store.consume(key, grant_id=grant_id, now=now, tombstone_seconds=LONG)


async def test_the_first_consume_returns_an_equal_code(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    assert await consume(store, code.digest, clock.now()) == code


async def test_a_code_without_nonce_or_resource_round_trips(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now(), nonce=None, resource=None)
    await store.add(code, LONG)
    assert await consume(store, code.digest, clock.now()) == code


async def test_how_the_user_authenticated_round_trips(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    federated = a_code(clock.now(), amr=("fed",), idp="corp-sso")
    password = a_code(clock.now())
    for code in (federated, password):
        await store.add(code, LONG)
    back = await consume(store, federated.digest, clock.now())
    assert back is not None
    assert (back.amr, back.idp) == (("fed",), "corp-sso")
    plain = await consume(store, password.digest, clock.now())
    assert plain is not None
    assert (plain.amr, plain.idp) == (("pwd",), None)


async def test_every_later_consume_returns_none(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    assert await consume(store, code.digest, clock.now()) is not None
    assert await consume(store, code.digest, clock.now()) is None
    assert await consume(store, code.digest, clock.now(), grant_id="g2") is None


async def test_of_twenty_concurrent_consumes_exactly_one_gets_the_code(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    results = await asyncio.gather(
        *(consume(store, code.digest, clock.now(), grant_id=f"g{i}") for i in range(20))
    )
    assert [r for r in results if r is not None] == [code]


async def test_consume_leaves_a_tombstone_with_the_grant_id(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    await consume(store, code.digest, clock.now(), grant_id="grant-1")
    tombstone = await store.find_redeemed(code.digest, clock.now())
    assert tombstone is not None
    assert (tombstone.code, tombstone.grant_id) == (code, "grant-1")
    assert tombstone.redeemed_at == pytest.approx(clock.now())


async def test_a_code_never_consumed_has_no_tombstone(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    assert await store.find_redeemed(code.digest, clock.now()) is None


async def test_an_unknown_digest_consumes_nothing_and_leaves_no_tombstone(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    key = digest(new_secret())
    assert await consume(store, key, clock.now()) is None
    assert await store.find_redeemed(key, clock.now()) is None


async def test_an_expired_code_consumes_nothing_and_leaves_no_tombstone(
    store: AuthorizationCodeStore, clock: FixedClock, wait: Wait
) -> None:
    code = a_code(clock.now(), ttl=1)
    await store.add(code, 1)
    now = await wait(1.2)
    assert await consume(store, code.digest, now) is None
    assert await store.find_redeemed(code.digest, now) is None


async def test_a_code_is_consumable_until_its_ttl(
    store: AuthorizationCodeStore, clock: FixedClock, wait: Wait
) -> None:
    code = a_code(clock.now(), ttl=2)
    await store.add(code, 2)
    now = await wait(0.5)
    assert await consume(store, code.digest, now) == code


async def test_the_tombstone_is_gone_after_its_ttl(
    store: AuthorizationCodeStore, clock: FixedClock, wait: Wait
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    await store.consume(code.digest, grant_id="g", now=clock.now(), tombstone_seconds=1)
    now = await wait(1.2)
    assert await store.find_redeemed(code.digest, now) is None
    assert await consume(store, code.digest, now) is None


async def test_mark_redeemed_replaces_the_grant_id(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    await consume(store, code.digest, clock.now(), grant_id="first")
    assert await store.mark_redeemed(code.digest, "family-9", now=clock.now(), ttl_seconds=LONG)
    tombstone = await store.find_redeemed(code.digest, clock.now())
    assert tombstone is not None
    assert tombstone.grant_id == "family-9"


async def test_mark_redeemed_keeps_the_tombstone_its_ttl_from_now(
    store: AuthorizationCodeStore, clock: FixedClock, wait: Wait
) -> None:
    code = a_code(clock.now())
    await store.add(code, LONG)
    await store.consume(code.digest, grant_id="g", now=clock.now(), tombstone_seconds=LONG)
    assert await store.mark_redeemed(code.digest, "g2", now=clock.now(), ttl_seconds=1)
    now = await wait(1.2)
    assert await store.find_redeemed(code.digest, now) is None


async def test_mark_redeemed_without_a_tombstone_returns_false_and_writes_nothing(
    store: AuthorizationCodeStore, clock: FixedClock
) -> None:
    live = a_code(clock.now())
    await store.add(live, LONG)
    assert not await store.mark_redeemed(live.digest, "g", now=clock.now(), ttl_seconds=LONG)
    assert not await store.mark_redeemed(
        digest(new_secret()), "g", now=clock.now(), ttl_seconds=LONG
    )
    # The live code is untouched: still consumable, still without a tombstone.
    assert await store.find_redeemed(live.digest, clock.now()) is None
    assert await consume(store, live.digest, clock.now()) == live


async def test_codes_are_independent(store: AuthorizationCodeStore, clock: FixedClock) -> None:
    first, second = a_code(clock.now()), a_code(clock.now())
    await store.add(first, LONG)
    await store.add(second, LONG)
    await consume(store, first.digest, clock.now())
    assert await consume(store, second.digest, clock.now()) == second


async def test_sql_sweep_deletes_expired_codes_and_tombstones(
    backend: str, backends: Backends, clock: FixedClock
) -> None:
    if backend == "redis":
        assert backends.codes not in backends.sweepers  # Redis expires its own keys
        return
    live, expired, spent = a_code(clock.now()), a_code(clock.now()), a_code(clock.now())
    await backends.codes.add(live, LONG)
    await backends.codes.add(expired, 5)
    await backends.codes.add(spent, LONG)
    await backends.codes.consume(spent.digest, grant_id="g", now=clock.now(), tombstone_seconds=10)
    assert await backends.sweep(clock.now() + 20) == 2
    assert await consume(backends.codes, live.digest, clock.now()) == live
