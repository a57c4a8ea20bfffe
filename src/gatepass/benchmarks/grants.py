"""The other grants at the token endpoint: `client_credentials` and `refresh_token`
throughput per access-token signing algorithm, on a real `gatepass serve` per backend.

    bench process                                       gatepass serve (one per backend x alg)
      client_credentials: N tasks, each POST /token ───► client_secret_basic, throttle check,
        scope=orders:read orders:write                   one access token (the server's alg)
      refresh_token: families started beforehand ──────► the stores ◄── find the family,
        straight from the core (TokenFamilies.start,     compare-and-set to the next
        as a code redemption starts them); each request  generation, user check, access token
        presents a distinct live refresh token, once     + id token (RS256) + the successor

The access-token algorithm is the server's (GATEPASS_ACCESS_TOKEN_ALG), so each algorithm
is a server start of its own; the authorization-code exchange (benchmarks/exchange.py) runs on
the server of the default algorithm, which makes it the baseline of the rows beside it.
A refresh token presented twice would be a retry (or, later, theft: the family revoked),
so every request takes another one from a pool made just before the case; the pool is
sized like the code pool (exchange.measure).
"""

import asyncio
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

from gatepass.accounts.service import Accounts
from gatepass.benchmarks import exchange
from gatepass.benchmarks.environment import SEED_CONCURRENCY, Stack
from gatepass.benchmarks.exchange import REDIRECT, Pool, form_headers, measure, register
from gatepass.benchmarks.server import Server
from gatepass.benchmarks.workload import Operation
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.keys import ALGORITHMS
from gatepass.oauth.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    Client,
    ClientRegistration,
)
from gatepass.oauth.codes import AuthorizationCodes, new_grant_id
from gatepass.tokens.refresh import FamilyStart
from gatepass.web.app import build_grants, build_key_ring

DEFAULT_ALG = Settings().access_token_alg  # ES256: what the code exchange runs under
# What an algorithm changes is the server's signing CPU, the same whatever the store: every
# algorithm on SQLite (the embedded default), the default one on PostgreSQL and Redis,
# which answer what the store changes. (On the Redis row clients and token families live
# in SQLite too, so its other algorithms would repeat SQLite's.) A server start each.
ALGORITHMS_ON = {"sqlite": ALGORITHMS, "postgres": (DEFAULT_ALG,), "redis": (DEFAULT_ALG,)}
API_SCOPES = ("orders:read", "orders:write")  # a machine client's custom scopes
REFRESH_SCOPES = ("openid", "offline_access")
GRANTS = (CLIENT_CREDENTIALS, REFRESH_TOKEN)


def algorithms_on(backend: str) -> tuple[str, ...]:
    return tuple(ALGORITHMS_ON.get(backend, (DEFAULT_ALG,)))


class Families:
    """First refresh tokens of families started straight from the core, with the server's
    own wiring (web/app.py build_grants: the same TokenFamilies, the client's refresh
    policy), as the code redemption starts them: scope openid offline_access, one of the
    seeded users, an OP session. Into the same stores the server reads."""

    def __init__(self, stack: Stack, client: Client) -> None:
        settings, backends, clock = stack.settings, stack.backends, SystemClock()
        grants = build_grants(
            settings,
            backends,
            clock,
            build_key_ring(settings, backends, clock),  # never started: nothing signs here
            AuthorizationCodes(backends.codes, clock, ttl_seconds=settings.code_ttl),
            Accounts(backends.users, stack.hasher, clock),
        )
        self._families, self._policy = grants.families, grants.refresh_policy(client)
        self._client_id, self._users = client.client_id, stack.user_ids
        self._access_ttl, self._clock = settings.access_token_ttl, clock
        # Families always live in SQL; SQLite has one writer at a time, so one by one there.
        sqlite = backends.engine.dialect.name == "sqlite"
        self._batch = 1 if sqlite else SEED_CONCURRENCY

    async def pool(self, count: int) -> Pool:
        tokens: list[str] = []
        for start in range(0, count, self._batch):
            n = min(self._batch, count - start)
            tokens += await asyncio.gather(*(self._one(start + k) for k in range(n)))
        return Pool(tokens)

    async def _one(self, k: int) -> str:
        now = self._clock.now()
        token = await self._families.start(
            FamilyStart(
                family_id=new_grant_id(),
                client_id=self._client_id,
                user_id=self._users[k % len(self._users)],
                scopes=REFRESH_SCOPES,
                resource=None,
                auth_time=now,
                session_id=uuid.uuid4().hex,  # the OP session of the login
                access_expires_at=now + self._access_ttl,
            ),
            self._policy,
        )
        assert token is not None  # a refresh policy was given
        return token


def client_credentials_request(http: httpx.AsyncClient, authorization: str) -> Operation:
    headers = form_headers(authorization)
    body = urlencode({"grant_type": CLIENT_CREDENTIALS, "scope": " ".join(API_SCOPES)})

    async def grant(i: int) -> bool:
        response = await http.post("/token", content=body, headers=headers)
        return response.status_code == 200 and b'"access_token"' in response.content

    return grant


def refresh_request(http: httpx.AsyncClient, pool: Pool, authorization: str) -> Operation:
    headers = form_headers(authorization)

    async def refresh(i: int) -> bool:
        form = {"grant_type": REFRESH_TOKEN, "refresh_token": pool.take()}
        response = await http.post("/token", content=urlencode(form), headers=headers)
        # A rotation answers with the successor and, for openid, an id token.
        body = response.content
        return response.status_code == 200 and b'"refresh_token"' in body and b'"id_token"' in body

    return refresh


async def machine_client(stack: Stack) -> tuple[Client, str]:
    """A confidential client of its own API scopes, for client_credentials only."""
    return await register(
        stack,
        ClientRegistration(
            name="Bench Service", grant_types=(CLIENT_CREDENTIALS,), scopes=API_SCOPES
        ),
    )


async def app_client(stack: Stack) -> tuple[Client, str]:
    """A confidential app with refresh tokens (default scopes and id token algorithm)."""
    return await register(
        stack,
        ClientRegistration(
            name="Bench Refresh App",
            redirect_uris=(REDIRECT,),
            grant_types=(AUTHORIZATION_CODE, REFRESH_TOKEN),
        ),
    )


async def _levels(
    server: Server, prepare: exchange.Prepare, levels: list[int], seconds: float, warmup: float
) -> dict[str, Any]:
    requests, cpu = {}, {}
    for c in levels:
        requests[c], cpu[c] = await measure(server, prepare, c, seconds, warmup)
    return {"requests": requests, "server_cpu_ms_per_request": cpu}


async def client_credentials_rates(
    server: Server, client: tuple[Client, str], levels: list[int], seconds: float, warmup: float
) -> dict[str, Any]:
    authorization = client[1]

    async def prepare(http: httpx.AsyncClient, count: int) -> Operation:
        return client_credentials_request(http, authorization)  # nothing single-use to make

    return {
        **await _levels(server, prepare, levels, seconds, warmup),
        "access_token_alg": server.access_token_alg,
        "id_token_alg": None,  # no user, no id token (RFC 6749 §4.4)
        "scope": " ".join(API_SCOPES),
    }


async def refresh_rates(
    stack: Stack,
    server: Server,
    client: tuple[Client, str],
    levels: list[int],
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    families, authorization = Families(stack, client[0]), client[1]

    async def prepare(http: httpx.AsyncClient, count: int) -> Operation:
        return refresh_request(http, await families.pool(count), authorization)

    return {
        **await _levels(server, prepare, levels, seconds, warmup),
        "access_token_alg": server.access_token_alg,
        "id_token_alg": client[0].id_token_alg,
        "scope": " ".join(REFRESH_SCOPES),
    }


def baseline(entry: dict[str, Any], code_exchange: dict[str, Any] | None) -> dict[str, Any] | None:
    """The code exchange on the same server (same backend, same access-token algorithm,
    same concurrency), and this grant's rate over it; None where it did not run there."""
    if code_exchange is None or code_exchange["access_token_alg"] != entry["access_token_alg"]:
        return None
    theirs = {c: t.ops_per_second for c, t in code_exchange["requests"].items()}
    return {
        "grant_type": AUTHORIZATION_CODE,
        "access_token_alg": code_exchange["access_token_alg"],
        "id_token_alg": code_exchange["id_token_alg"],
        "requests_per_second": theirs,
        "ratio": {
            c: t.ops_per_second / theirs[c] if theirs.get(c) else None
            for c, t in entry["requests"].items()
        },
    }
