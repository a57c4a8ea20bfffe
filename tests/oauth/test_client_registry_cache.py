"""The registry's copy of clients (`cache_seconds`): one read per client at a time.

The store is the backend's real one; `_Counting` passes every call through and notes
the reads, and can hold a read open until the test lets it go.
"""

import asyncio
import hashlib
import hmac
import secrets
from typing import Any

import pytest

from gatepass.clock import FixedClock
from gatepass.errors import StoreUnavailable
from gatepass.oauth.client_secrets import ClientSecrets, new_secret
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.oauth.store import ClientStore
from gatepass.storage.backends import Backends

SERVICE = ClientRegistration(name="Service", grant_types=("client_credentials",))
CALLERS = 20


class _Counting:
    def __init__(self, store: ClientStore) -> None:
        self.store = store
        self.reads = 0
        self.gate: asyncio.Event | None = None  # set: reads wait for it
        self.fail_next = False

    async def get(self, client_id: str) -> Client | None:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailable("the test's outage")
        return await self.store.get(client_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def counting(backends: Backends) -> _Counting:
    return _Counting(backends.clients)


@pytest.fixture
def registry(counting: _Counting) -> ClientRegistry:
    store: Any = counting
    return ClientRegistry(store, secrets.token_bytes(32), FixedClock(), cache_seconds=60)


async def test_requests_for_a_client_not_at_hand_share_one_read(
    registry: ClientRegistry, counting: _Counting
) -> None:
    client, _ = await registry.create(SERVICE)
    found = await asyncio.gather(*(registry.get(client.client_id) for _ in range(CALLERS)))
    assert found == [client] * CALLERS
    assert counting.reads == 1
    assert await registry.get(client.client_id) == client  # the copy, no read
    assert counting.reads == 1


async def _read_held_open(
    registry: ClientRegistry, counting: _Counting
) -> tuple[Client, "asyncio.Task[Client | None]"]:
    """A new client, and a request for it whose read waits in the store for the gate."""
    client, _ = await registry.create(SERVICE)
    counting.gate = asyncio.Event()
    first = asyncio.create_task(registry.get(client.client_id))
    await asyncio.sleep(0.01)
    return client, first


async def test_a_caller_that_gives_up_does_not_cancel_the_read_for_the_others(
    registry: ClientRegistry, counting: _Counting
) -> None:
    client, quitter = await _read_held_open(registry, counting)
    stayer = asyncio.create_task(registry.get(client.client_id))
    await asyncio.sleep(0.01)
    quitter.cancel()
    assert counting.gate is not None
    counting.gate.set()
    assert await stayer == client
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert counting.reads == 1


async def test_an_outage_reaches_every_waiter_and_the_next_request_reads_again(
    registry: ClientRegistry, counting: _Counting
) -> None:
    client, _ = await registry.create(SERVICE)
    counting.fail_next = True
    answers = await asyncio.gather(
        *(registry.get(client.client_id) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(answer, StoreUnavailable) for answer in answers)
    assert await registry.get(client.client_id) == client
    assert counting.reads == 2


async def test_a_request_after_forget_does_not_join_the_read_already_in_flight(
    registry: ClientRegistry, counting: _Counting
) -> None:
    client, before = await _read_held_open(registry, counting)
    registry.forget(client.client_id)  # changed elsewhere: that read may predate it
    after = asyncio.create_task(registry.get(client.client_id))
    await asyncio.sleep(0.01)
    assert counting.reads == 2  # a read of its own, not the one in flight
    assert counting.gate is not None
    counting.gate.set()
    assert (await before, await after) == (client, client)
    assert await registry.get(client.client_id) == client  # the later read's copy
    assert counting.reads == 2


async def test_an_unknown_client_is_never_remembered(
    registry: ClientRegistry, counting: _Counting
) -> None:
    client, _ = await registry.create(SERVICE)
    await registry.delete(client.client_id)
    assert await registry.get(client.client_id) is None
    assert await registry.get(client.client_id) is None
    assert counting.reads == 2


def test_a_digest_is_the_same_hmac_sha256_earlier_versions_stored() -> None:
    key, secret = secrets.token_bytes(32), new_secret()
    message = f"gatepass/oauth-client-secret/v1\x00gpc_a\x00{secret}".encode()
    stored = hmac.new(key, message, hashlib.sha256).hexdigest()
    hasher = ClientSecrets(key)
    assert hasher.digest("gpc_a", secret) == stored
    assert hasher.verify("gpc_a", secret, stored)
    assert not hasher.verify("gpc_a", new_secret(), stored)
