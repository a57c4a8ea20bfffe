"""The token-endpoint benchmark's requests (bench/grants.py) against the real app, on every
backend: what the benchmark prepares must be what the server accepts, or its figures
would time refusals. And its results must reach the reports."""

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from gatepass.accounts.model import User
from gatepass.benchmarks import grants
from gatepass.benchmarks.environment import PASSWORD, Stack, argon2_parameters, manager_for
from gatepass.benchmarks.workload import Exhausted, Throughput
from gatepass.config import Settings
from gatepass.crypto.passwords import PasswordHasher
from gatepass.storage.backends import Backends
from tests.support import web_client


@pytest.fixture
async def stack(settings: Settings, backends: Backends) -> Stack:
    """The benchmark's view of one backend, with two users instead of its fifty."""
    hasher = PasswordHasher(argon2_parameters(settings))
    password_hash = hasher.hash_sync(PASSWORD)
    now = time.time()
    users = [
        User(str(uuid.uuid4()), f"user{n}@bench.example", "", password_hash, False, now, now)
        for n in range(2)
    ]
    for user in users:
        await backends.users.add(user)
    manager = manager_for(settings, backends)
    return Stack("test", settings, backends, manager, hasher, [u.id for u in users], [], [])


@pytest.fixture
async def http(settings: Settings, backends: Backends) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(settings, backends) as client:
        yield client


async def test_each_prepared_refresh_token_rotates_once_then_the_pool_is_dry(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    client, authorization = await grants.app_client(stack)
    pool = await grants.Families(stack, client).pool(3)
    refresh = grants.refresh_request(http, pool, authorization)
    assert [await refresh(i) for i in range(3)] == [True, True, True]
    with pytest.raises(Exhausted):
        await refresh(3)


async def test_a_prepared_refresh_token_answers_with_successor_and_id_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    client, authorization = await grants.app_client(stack)
    token = (await grants.Families(stack, client).pool(1)).take()
    response = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] != token
    assert body["scope"] == " ".join(grants.REFRESH_SCOPES)
    assert body["id_token"]
    assert body["access_token"]


async def test_the_client_credentials_request_gets_its_api_scopes(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    _, authorization = await grants.machine_client(stack)
    assert await grants.client_credentials_request(http, authorization)(0)
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": " ".join(grants.API_SCOPES)},
        headers={"Authorization": authorization},
    )
    assert response.json()["scope"] == "orders:read orders:write"


def _throughput(c: int, rate: float) -> Throughput:
    return Throughput(c, int(rate), 0, 1.0, rate, 1.0, 2.0, 100.0)


def _entry(alg: str, rates: dict[int, float]) -> dict[str, object]:
    return {
        "requests": {c: _throughput(c, r) for c, r in rates.items()},
        "server_cpu_ms_per_request": dict.fromkeys(rates, 1.5),
        "access_token_alg": alg,
        "id_token_alg": "RS256",
    }


def test_the_baseline_is_the_code_exchange_of_the_same_server_only() -> None:
    code_exchange = _entry("ES256", {1: 50.0, 16: 80.0})
    same = grants.baseline(_entry("ES256", {1: 100.0, 16: 40.0}), code_exchange)
    assert same is not None
    assert same["ratio"] == {1: 2.0, 16: 0.5}
    assert grants.baseline(_entry("EdDSA", {1: 100.0}), code_exchange) is None
    assert grants.baseline(_entry("ES256", {1: 100.0}), None) is None
