"""A tiny orders API on Starlette, protected by gatepass's access tokens.

GET /orders needs the scope orders:read, POST /orders orders:write; /healthz is open.
Configuration: GATEPASS_ISSUER (default http://127.0.0.1:8000) and GATEPASS_AUDIENCE
(default: the issuer followed by /api, gatepass's default audience). With
GATEPASS_REDIS_URL (and GATEPASS_REDIS_PREFIX, default "gp:") revoked tokens are refused
within moments through gatepass's revocation feed; with GATEPASS_CLIENT_ID and
GATEPASS_CLIENT_SECRET (a confidential client) the feed is read over HTTP instead, or
used to catch up after a Redis restart.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gatepass.resource import (
    HttpRevocationFeed,
    RedisRevocationFeed,
    RevocationSet,
    TokenVerifier,
)
from gatepass.resource.adapters.starlette import GatepassAuth, requires_scope

ORDERS = [{"id": 1, "item": "tea", "quantity": 2}]


@requires_scope("orders:read")
async def list_orders(request: Request) -> JSONResponse:
    return JSONResponse({"orders": ORDERS, "client_id": request.state.token.client_id})


@requires_scope("orders:write")
async def add_order(request: Request) -> JSONResponse:
    return JSONResponse({"id": len(ORDERS) + 1}, status_code=201)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


FEED_READY_SECONDS = 10


def revocation_feed(
    issuer: str, revocations: RevocationSet
) -> RedisRevocationFeed | HttpRevocationFeed | None:
    """The feed the environment configures, or None (then revocations are not seen)."""
    client_id, secret = (
        os.environ.get("GATEPASS_CLIENT_ID"),
        os.environ.get("GATEPASS_CLIENT_SECRET"),
    )
    http = None
    if client_id and secret:
        http = HttpRevocationFeed(issuer, client_id, secret, revocations)
    redis_url = os.environ.get("GATEPASS_REDIS_URL")
    if redis_url:
        prefix = os.environ.get("GATEPASS_REDIS_PREFIX", "gp:")
        return RedisRevocationFeed(redis_url, revocations, prefix, http=http)
    return http


def create_app(issuer: str, audience: str) -> Starlette:
    revocations = RevocationSet()
    feed = revocation_feed(issuer, revocations)
    verifier = TokenVerifier(issuer, audience, revocations=revocations if feed else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if feed is not None:
            await feed.start()
            # Until the feed has caught up, the set refuses older tokens (fail closed).
            await feed.wait_ready(FEED_READY_SECONDS)
        try:
            yield  # the first request fetches the issuer's keys
        finally:
            if feed is not None:
                await feed.aclose()
            await verifier.aclose()

    return Starlette(
        routes=[
            Route("/orders", list_orders, methods=["GET"]),
            Route("/orders", add_order, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        middleware=[Middleware(GatepassAuth, verifier=verifier, exempt={"/healthz"})],
        lifespan=lifespan,
    )


ISSUER = os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
app = create_app(ISSUER, os.environ.get("GATEPASS_AUDIENCE", f"{ISSUER}/api"))

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8001")))
