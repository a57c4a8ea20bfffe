"""The protected API of the load test: one Starlette route behind `GatepassAuth`, as a
user's own service would be, with the Redis revocation feed.

GET /whoami needs the scope `orders:read` and answers with the verified token's `sub`,
`client_id` and `jti`, so the load generator can check that the API accepted the very
token it sent (after a rotation: the new one). Configuration: GATEPASS_ISSUER,
GATEPASS_REDIS_URL and GATEPASS_REDIS_PREFIX, as the servers have them.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gatepass.resource import RedisRevocationFeed, RevocationSet, TokenVerifier
from gatepass.resource.adapters.starlette import GatepassAuth, requires_scope

SCOPE = "orders:read"
FEED_READY_SECONDS = 30


@requires_scope(SCOPE)
async def whoami(request: Request) -> JSONResponse:
    token = request.state.token
    return JSONResponse({"sub": token.subject, "client_id": token.client_id, "jti": token.jti})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(issuer: str, redis_url: str, prefix: str) -> Starlette:
    revocations = RevocationSet()
    feed = RedisRevocationFeed(redis_url, revocations, prefix)
    verifier = TokenVerifier(issuer, f"{issuer}/api", revocations=revocations)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await feed.start()
        # Until the feed has caught up the set refuses older tokens (fail closed): /healthz
        # answers only once it has, so the load never starts against a blind verifier.
        if not await feed.wait_ready(FEED_READY_SECONDS):
            raise RuntimeError(f"the revocation feed did not catch up in {FEED_READY_SECONDS} s")
        try:
            yield
        finally:
            await feed.aclose()
            await verifier.aclose()

    return Starlette(
        routes=[Route("/whoami", whoami), Route("/healthz", healthz)],
        middleware=[Middleware(GatepassAuth, verifier=verifier, exempt={"/healthz"})],
        lifespan=lifespan,
    )


app = create_app(
    os.environ["GATEPASS_ISSUER"],
    os.environ["GATEPASS_REDIS_URL"],
    os.environ["GATEPASS_REDIS_PREFIX"],
)
