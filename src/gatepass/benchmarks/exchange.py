"""Authorization-code exchange throughput: POST /token on a real `gatepass serve`, per backend.

    bench process                                     gatepass serve (own process, 1 worker)
      codes issued beforehand, from the core ──► the stores ◄── redeem (atomic, once)
      N tasks, each: POST /token ───────────────────────────► client_secret_basic, throttle
        grant_type=authorization_code + PKCE verifier          check, access token (ES256)
      ◄── 200 {access_token, id_token, ...} ───────────────── + id token (RS256, at_hash)

Codes are single use, so each case draws from a pool issued just before it (the
default 60 s code lifetime is far longer than a case) and stops early if the pool runs
dry; the pool holds twice what the warm-up rate says the case needs, within MIN_CODES
and MAX_CODES. `measure` runs any such case (benchmarks/grants.py times the other grants
with it): warm up on a small supply, then measure on one sized by the warm-up rate.
"""

import asyncio
import base64
import math
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from importlib.metadata import version
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx

from gatepass.benchmarks.environment import SEED_CONCURRENCY, Stack
from gatepass.benchmarks.server import Server
from gatepass.benchmarks.workload import Exhausted, Operation, Throughput, closed_loop
from gatepass.clock import SystemClock
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.authorize import AuthorizationRequest
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oauth.pkce import s256
from gatepass.oauth.registry import ClientRegistry

REDIRECT = "https://app.bench.example/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
NONCE = "n-0S6_WzA2Mj"
SCOPES = ("openid", "profile")
WARMUP_CODES_PER_TASK = 4
MIN_CODES = 100  # the bounds of a pool of single-use values: codes, refresh tokens
MAX_CODES = 5000
POOL_MARGIN = 2.0  # twice what the warm-up rate says: warm-up runs cold, codes are cheap
REQUEST_TIMEOUT_SECONDS = 10.0
SERVER = (
    "gatepass serve as deployed: one uvicorn worker process (httptools, one send per "
    "response: cli/http_protocol.py; uvloop), INFO log "
    "to a file; client: httpx.AsyncClient over 127.0.0.1 TCP, keep-alive, one connection "
    "per task"
)


def versions() -> dict[str, str]:
    return {name: version(name) for name in ("uvicorn", "httptools", "uvloop", "httpx")}


# (client on the server, requests to prepare for) -> the request, ready for that many:
# single-use values (codes, refresh tokens) are made here, before the clock starts.
Prepare = Callable[[httpx.AsyncClient, int], Awaitable[Operation]]


class Pool:
    """Single-use values made beforehand (codes, refresh tokens); `take` hands each out
    once, then raises Exhausted."""

    def __init__(self, values: Iterable[str]) -> None:
        self._values = deque(values)

    def take(self) -> str:
        try:
            return self._values.popleft()
        except IndexError:
            raise Exhausted from None


class Issuer:
    """Mints codes for the bench client straight from the core, as /authorize would."""

    def __init__(self, stack: Stack, client: Client) -> None:
        settings = stack.settings
        self._codes = AuthorizationCodes(
            stack.backends.codes, SystemClock(), ttl_seconds=settings.code_ttl
        )
        self._users = stack.user_ids
        self._request = AuthorizationRequest(
            client=client,
            redirect_uri=REDIRECT,
            scopes=SCOPES,
            code_challenge=s256(VERIFIER),
            nonce=NONCE,
        )
        # SQLite has one writer at a time; concurrent inserts there only queue.
        sqlite = stack.backends.engine.dialect.name == "sqlite" and stack.backends.redis is None
        self._batch = 1 if sqlite else SEED_CONCURRENCY

    async def pool(self, count: int) -> Pool:
        codes: list[str] = []
        for start in range(0, count, self._batch):
            n = min(self._batch, count - start)
            codes += await asyncio.gather(*(self._one(start + k) for k in range(n)))
        return Pool(codes)

    async def _one(self, k: int) -> str:
        user_id = self._users[k % len(self._users)]
        session_id = uuid.uuid4().hex  # the OP session the code was issued in
        return await self._codes.issue(
            self._request, user_id=user_id, session_id=session_id, auth_time=SystemClock().now()
        )


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def form_headers(authorization: str) -> dict[str, str]:
    return {"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"}


def _exchange(http: httpx.AsyncClient, pool: Pool, authorization: str) -> Operation:
    headers = form_headers(authorization)

    async def exchange(i: int) -> bool:
        form = {
            "grant_type": "authorization_code",
            "code": pool.take(),
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        response = await http.post("/token", content=urlencode(form), headers=headers)
        return response.status_code == 200 and b'"id_token"' in response.content

    return exchange


async def register(stack: Stack, registration: ClientRegistration) -> tuple[Client, str]:
    """A confidential client, registered as an administrator would (`ClientRegistry`,
    secret digested under the run's master key), and its `client_secret_basic` header."""
    registry = ClientRegistry(
        stack.backends.clients, load_master_key(stack.settings).client_secret_key(), SystemClock()
    )
    client, secret = await registry.create(registration)
    assert secret is not None  # a confidential client
    return client, basic(client.client_id, secret)


async def measure(
    server: Server, prepare: Prepare, c: int, seconds: float, warmup: float
) -> tuple[Throughput, float | None]:
    """One concurrency level: warm up on a small supply, then measure on one sized by the
    warm-up rate. Returns the throughput and the server's CPU ms per request."""
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(
        base_url=server.url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as http:
        warm = await closed_loop(
            await prepare(http, max(MIN_CODES // 2, WARMUP_CODES_PER_TASK * c)),
            concurrency=c,
            items=1,
            seconds=max(warmup, 0.1),
            warmup=0,
        )
        wanted = math.ceil(warm.ops_per_second * seconds * POOL_MARGIN)
        op = await prepare(http, min(MAX_CODES, max(MIN_CODES, wanted)))
        began = server.cpu_seconds()
        result = await closed_loop(op, concurrency=c, items=1, seconds=seconds, warmup=0)
        ended = server.cpu_seconds()
    if began is None or ended is None or not result.ops:
        return result, None
    return result, (ended - began) / result.ops * 1000


async def exchange_rates(
    stack: Stack, server: Server, levels: list[int], seconds: float, warmup: float
) -> dict[str, Any]:
    """Requests/s, latency and server CPU per exchange at each concurrency level, on a
    server started on the stack's stores."""
    client, authorization = await register(
        stack, ClientRegistration(name="Bench App", redirect_uris=(REDIRECT,))
    )
    issuer = Issuer(stack, client)

    async def prepare(http: httpx.AsyncClient, count: int) -> Operation:
        return _exchange(http, await issuer.pool(count), authorization)

    requests, cpu = {}, {}
    for c in levels:
        requests[c], cpu[c] = await measure(server, prepare, c, seconds, warmup)
    return {
        "requests": requests,
        "server_cpu_ms_per_request": cpu,
        "id_token_alg": client.id_token_alg,
        "access_token_alg": server.access_token_alg,
    }
