"""A Sentinel failover, and a Redis Cluster node lost and back, under a signed-in user.

While the master is gone, a request that needs Redis fails closed with 503 (never a 500,
never an unchecked session); once Sentinel has promoted the replica, the app and the
toolkit's revocation feed recover by themselves: the same session cookie works again, a
login works, and a revocation made after the failover reaches the feed. Each test has a
Sentinel set-up of its own (one master, one replica, one sentinel), since it breaks it.
"""

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from tests import support
from tests.redis_cluster.conftest import cluster_url, sentinel_url
from tests.redis_cluster.servers import SERVICE, Servers, start_cluster, start_sentinel
from tests.resource.feed_support import WAIT_SECONDS, eventually, facts
from tests.support import log_in, settings_for, web_client
from tests.web.conftest import sign_up_as

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.resource.feeds import RedisRevocationFeed
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.storage.backends import Backends
from gatepass.web.app import build_revocations

FAST = {"heartbeat_seconds": 0.5, "min_backoff": 0.05, "max_backoff": 0.5}
RECOVERY_SECONDS = 60.0  # a bound on the wait, never asserted on


@pytest.fixture
def sentinel() -> Iterator[tuple[Servers, int, int, int]]:
    with tempfile.TemporaryDirectory(prefix="gp-failover-") as workdir:
        started = start_sentinel(Path(workdir))
        try:
            yield started
        finally:
            started[0].stop()


@pytest.fixture
def failover_settings(
    tmp_path: Path, redis_prefix: str, sentinel: tuple[Servers, int, int, int]
) -> Settings:
    url = sentinel_url(sentinel[3])
    return settings_for("redis", tmp_path, "unused", redis_prefix, redis_url=url)


@pytest.fixture
async def failover_backends(failover_settings: Settings) -> AsyncIterator[Backends]:
    async with support.test_backends(failover_settings) as opened:
        yield opened


def fail_over(how: str, servers: Servers, master: int, sentinel_port: int) -> None:
    if how == "kill":
        servers.kill(master)  # SIGKILL: the master is gone, Sentinel notices and promotes
    else:
        redis.Redis(port=sentinel_port).execute_command("SENTINEL", "FAILOVER", SERVICE)


def promoted(sentinel_port: int, replica: int) -> bool:
    address = redis.Redis(port=sentinel_port).sentinel_get_master_addr_by_name(SERVICE)
    return address is not None and int(address[1]) == replica


async def statuses_until_recovered(
    client: httpx.AsyncClient, sentinel_port: int, replica: int
) -> list[int]:
    """GET /account until Sentinel names the replica master and the page answers 200 after
    that; every status seen on the way."""
    seen: list[int] = []
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        switched = promoted(sentinel_port, replica)
        seen.append((await client.get("/account")).status_code)
        if switched and seen[-1] == 200:
            break
        await asyncio.sleep(0.05)
    return seen


@pytest.mark.parametrize("how", ["kill", "sentinel-failover"])
async def test_requests_fail_closed_during_a_failover_and_recover_by_themselves(
    how: str,
    sentinel: tuple[Servers, int, int, int],
    failover_settings: Settings,
    failover_backends: Backends,
) -> None:
    servers, master, replica, sentinel_port = sentinel
    settings, backends = failover_settings, failover_backends
    assert settings.redis_url is not None
    assert backends.redis is not None
    server = build_revocations(settings, backends, SystemClock())
    revocations = RevocationSet(max_gap_seconds=0, skew_seconds=0, max_token_ttl_seconds=3600)
    feed = RedisRevocationFeed(settings.redis_url, revocations, settings.redis_prefix, **FAST)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    async with web_client(settings, backends) as client, feed:
        await sign_up_as(client, email)
        assert await feed.wait_ready(WAIT_SECONDS)
        # The replica holds the session before the master goes (replication is async).
        assert await backends.redis.execute_command("WAIT", 1, 5000) == 1
        assert (await client.get("/account")).status_code == 200
        fail_over(how, servers, master, sentinel_port)
        seen = await statuses_until_recovered(client, sentinel_port, replica)
        assert seen[-1] == 200, seen[-20:]  # the same cookie: the session survived
        assert set(seen) <= {200, 503}, seen  # never a 500, never a login page
        if how == "kill":
            assert 503 in seen  # the dead master was asked, and refused to guess
        assert promoted(sentinel_port, replica)
        gid = uuid.uuid4().hex
        assert await server.revoke_grant(gid)  # published on the new master
        assert await eventually(
            lambda: revocations.verdict(facts("a", gid=gid), time.time()) is Verdict.REVOKED,
            RECOVERY_SECONDS,
        )
        async with web_client(settings, backends) as other:
            assert (await log_in(other, email)).status_code == 303


@pytest.fixture
def own_cluster() -> Iterator[tuple[Servers, list[int]]]:
    with tempfile.TemporaryDirectory(prefix="gp-cluster-down-") as workdir:
        servers, ports = start_cluster(Path(workdir))
        try:
            yield servers, ports
        finally:
            servers.stop()


def node_of(ports: list[int], key: str) -> int:
    """The port of the cluster node serving `key`'s slot, as the cluster itself says."""
    slot = redis.Redis(port=ports[0]).cluster("keyslot", key)
    for start, end, (_, port, *_) in redis.Redis(port=ports[0]).execute_command("CLUSTER SLOTS"):
        if start <= slot <= end:
            return int(port)
    raise AssertionError(f"no node serves slot {slot}")


async def test_a_cluster_node_down_fails_closed_and_its_return_recovers(
    tmp_path: Path, redis_prefix: str, own_cluster: tuple[Servers, list[int]]
) -> None:
    servers, ports = own_cluster
    url = cluster_url(ports)
    settings = settings_for("redis", tmp_path, "unused", redis_prefix, redis_url=url)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    async with (
        support.test_backends(settings) as backends,
        web_client(settings, backends) as client,
    ):
        secret = await sign_up_as(client, email)
        down = node_of(ports, f"{redis_prefix}s:{digest(secret)}")
        servers.kill(down)
        seen = [(await client.get("/account")).status_code for _ in range(5)]
        assert seen == [503] * 5  # the session's node is gone: refused, never guessed
        assert (await client.get("/readyz")).status_code == 503
        servers.restart(down)  # back, empty: the session it held is lost with it
        recovered: list[int] = []
        deadline = time.monotonic() + RECOVERY_SECONDS
        while time.monotonic() < deadline:
            recovered.append((await client.get("/account")).status_code)
            if recovered[-1] != 503:
                break
            await asyncio.sleep(0.1)
        assert set(recovered) <= {503, 303}, recovered  # 303: to the login page
        assert recovered[-1] == 303
        async with web_client(settings, backends) as other:
            assert (await log_in(other, email)).status_code == 303
