"""The resource toolkit (`gatepass.resource`, issue 5's proof), on one live identity server:

    gatepass serve on the "redis" stack (SQLite for the records, Redis for the feed)
      ├─ propagation.py   POST /revoke ─► refused by a verifier in another process (p50/p99)
      ├─ verify_rates.py  TokenVerifier.verify per algorithm, uncached and cached, with and
      │                   without a RevocationSet, beside raw `cryptography` and PyJWT
      ├─ endpoint.py      a Starlette endpoint behind GatepassAuth beside the same one open
      └─ under_load.py    /jwks.json and an uncached verify, p99, while logins saturate
                          the cores (the stack's login throttle per address is raised,
                          as every login comes from 127.0.0.1)

Every token is a real gatepass access token: from the server's `POST /token`
(propagation, endpoint), or, for the algorithms the server does not sign access tokens
with, from `AccessTokens` over the server's own key ring (verify rates). Every verifier
gets its keys from the running server (discovery, then /jwks.json).

benchmarks/summary.py flattens these figures, beside their baselines and goals.
"""

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from gatepass.benchmarks import endpoint, grants, propagation, under_load, verify_rates
from gatepass.benchmarks.environment import Stack
from gatepass.benchmarks.server import Server, Servers, Spec
from gatepass.benchmarks.tokens import Timing
from gatepass.clock import SystemClock
from gatepass.keys.ring import KeyRing
from gatepass.web.app import build_key_ring


def server_spec(stack: Stack) -> Spec:
    """The identity server of this part: the stack's settings, under the name the token
    endpoint part gives its server of the same algorithm (issuing.server_specs), so
    that, started together, the two parts share one."""
    return Spec(stack.settings, f"{stack.name}-{stack.settings.access_token_alg}")


async def signing_keys(stack: Stack) -> KeyRing:
    """The stack's key ring, started: every algorithm's key exists, so that a server started
    after this publishes them all in its JWKS (and servers started together create none)."""
    ring = build_key_ring(stack.settings, stack.backends, SystemClock())
    await ring.start()
    return ring


async def resource_figures(
    stack: Stack,
    workdir: Path,
    servers: Servers,
    *,
    token_timing: Timing,
    endpoint_timing: Timing,
    concurrency: int,
    revocations: int,
    saturation_seconds: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    ring = await signing_keys(stack)  # before `servers` has any server start
    async with servers.serve(server_spec(stack)) as server:
        settings = replace(stack.settings, issuer=server.url)
        _, authorization = await grants.machine_client(stack)
        progress(f"resource toolkit: revocation propagation, {revocations} revocations")
        spread = await propagation.propagation(
            settings, server, authorization, revocations, workdir
        )
        verify = await verify_rates.verify_rates(settings, ring, server, token_timing, progress)
        progress(f"resource toolkit: Starlette endpoint, open vs protected, {concurrency} tasks")
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10.0) as http:
            token = (await propagation.access_tokens(http, authorization, 1))[0]
        protected = await endpoint.endpoint_rates(
            settings, server.url, token, concurrency, endpoint_timing, workdir
        )
        progress("resource toolkit: /jwks.json and verify while logins saturate the cores")
        saturated = await _under_login_load(stack, server, ring, saturation_seconds)
    return {
        "server": f"gatepass serve, {stack.backends.engine.dialect.name} + Redis, "
        f"{settings.access_token_alg} access tokens",
        "verify": verify,
        "endpoint": protected,
        "propagation": spread,
        "under_login_load": saturated,
    }


async def _under_login_load(
    stack: Stack, server: Server, ring: KeyRing, seconds: float
) -> dict[str, Any]:
    settings = replace(stack.settings, issuer=server.url)
    pairs = await verify_rates.issued_tokens(settings, ring, settings.access_token_alg)
    # The stack's own users (their password is the bench's), whoever seeded them.
    found = [await stack.backends.users.get(user_id) for user_id in stack.user_ids]
    emails = [user.email for user in found if user is not None]
    return await under_load.latencies(
        settings, server, [token for token, _ in pairs], emails, os.cpu_count() or 1, seconds
    )
