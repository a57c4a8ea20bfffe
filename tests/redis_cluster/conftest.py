"""Fixtures: a real local Redis Cluster and a real Sentinel set-up, once per test run.

The backend stays "redis" (so the borrowed contract tests wait in real time, as on one
Redis server); `topology` picks which Redis the settings name: the cluster or the master
behind Sentinel. SQL is SQLite in the test's temporary directory.
"""

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.contract.conftest import new_user, timeline
from tests.redis_cluster.servers import SERVICE, Servers, start_cluster, start_sentinel
from tests.support import settings_for

from gatepass.config import Settings

__all__ = ["new_user", "timeline"]  # the contract suites' fixtures, for the borrowed tests

TOPOLOGIES = ("cluster", "sentinel")


def cluster_url(ports: list[int]) -> str:
    return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in ports)


def sentinel_url(sentinel_port: int) -> str:
    return f"redis+sentinel://127.0.0.1:{sentinel_port}/{SERVICE}/0"


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[tuple[Servers, list[int]]]:
    with tempfile.TemporaryDirectory(prefix="gp-cluster-") as workdir:
        servers, ports = start_cluster(Path(workdir))
        try:
            yield servers, ports
        finally:
            servers.stop()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[tuple[Servers, int, int, int]]:
    """Shared by the tests that do not fail it over (test_failover.py has its own)."""
    with tempfile.TemporaryDirectory(prefix="gp-sentinel-") as workdir:
        started = start_sentinel(Path(workdir))
        try:
            yield started
        finally:
            started[0].stop()


@pytest.fixture(params=TOPOLOGIES)
def topology(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def topology_url(topology: str, request: pytest.FixtureRequest) -> str:
    if topology == "cluster":
        return cluster_url(request.getfixturevalue("redis_cluster")[1])
    return sentinel_url(request.getfixturevalue("redis_sentinel")[3])


@pytest.fixture
def backend() -> str:
    return "redis"


@pytest.fixture
def make_settings(
    backend: str, tmp_path: Path, redis_prefix: str, topology_url: str
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        overrides.setdefault("redis_url", topology_url)
        return settings_for(backend, tmp_path, "unused", redis_prefix, **overrides)

    return make
