"""The endpoint of the toolkit-protection bench (benchmarks/endpoint.py): a tiny Starlette app,
one JSON route, served by uvicorn in a process of its own:

    python -m uvicorn --factory gatepass.benchmarks.endpoint_app:create_app ...

`GET /orders` answers the same small JSON document either way. With BENCH_ISSUER set it
is protected as gatepass.resource's docs show: `GatepassAuth` in front of the app (the
bearer token verified, from its cache after the first request) and `@requires_scope(
"orders:read")` on the route; the verifier fetches the issuer's keys at start-up. Without
it, the same app has neither: the baseline.
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

ORDERS = {"orders": [{"id": 1, "item": "tea", "quantity": 2}]}
SCOPE = "orders:read"


async def orders(request: Request) -> JSONResponse:
    return JSONResponse(ORDERS)


def create_app() -> Starlette:
    issuer = os.environ.get("BENCH_ISSUER")
    if not issuer:
        return Starlette(routes=[Route("/orders", orders, methods=["GET"])])
    verifier = TokenVerifier(issuer, os.environ["BENCH_AUDIENCE"])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await verifier.start()  # the keys, before the first request
        try:
            yield
        finally:
            await verifier.aclose()

    return Starlette(
        routes=[Route("/orders", requires_scope(SCOPE)(orders), methods=["GET"])],
        middleware=[Middleware(GatepassAuth, verifier=verifier)],
        lifespan=lifespan,
    )
