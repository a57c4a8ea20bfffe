"""A tiny orders API on Starlette, protected by gatepass's access tokens.

GET /orders needs the scope orders:read, POST /orders orders:write; /healthz is open.
Configuration: GATEPASS_ISSUER (default http://127.0.0.1:8000) and GATEPASS_AUDIENCE
(default: the issuer followed by /api, gatepass's default audience).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gatepass.resource import TokenVerifier
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


def create_app(issuer: str, audience: str) -> Starlette:
    verifier = TokenVerifier(issuer, audience)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield  # the first request fetches the issuer's keys
        finally:
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
