"""A tiny orders API on FastAPI, protected by gatepass's access tokens and sessions.

GET /orders needs the scope orders:read, POST /orders orders:write. GET /me answers for
a browser signed in at gatepass on the same site (its session cookie), when the session
store is configured as the server's is: GATEPASS_REDIS_URL (+ GATEPASS_REDIS_PREFIX) or
GATEPASS_DATABASE_URL. Also read: GATEPASS_ISSUER (default http://127.0.0.1:8000),
GATEPASS_AUDIENCE (default: the issuer followed by /api), GATEPASS_SESSION_IDLE_TTL.
"""

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI

from gatepass.resource import TokenVerifier, VerifiedToken
from gatepass.resource.adapters.fastapi import current_user, install, require_scope
from gatepass.resource.sessions import SessionVerifier, VerifiedSession

ORDERS = [{"id": 1, "item": "tea", "quantity": 2}]


def create_app(issuer: str, audience: str, sessions: SessionVerifier | None = None) -> FastAPI:
    tokens = TokenVerifier(issuer, audience)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield  # the first request fetches the issuer's keys
        finally:
            await tokens.aclose()
            if sessions is not None:
                await sessions.aclose()

    app = FastAPI(title="Orders", lifespan=lifespan)
    install(app, tokens=tokens, sessions=sessions)

    @app.get("/orders")
    async def list_orders(
        token: Annotated[VerifiedToken, Depends(require_scope("orders:read"))],
    ) -> dict[str, object]:
        return {"orders": ORDERS, "client_id": token.client_id}

    @app.post("/orders", status_code=201, dependencies=[Depends(require_scope("orders:write"))])
    async def add_order() -> dict[str, int]:
        return {"id": len(ORDERS) + 1}

    if sessions is not None:

        @app.get("/me")
        async def me(user: Annotated[VerifiedSession, Depends(current_user)]) -> dict[str, str]:
            return {"user_id": user.user_id}

    return app


def sessions_from(env: Mapping[str, str], issuer: str) -> SessionVerifier | None:
    """A SessionVerifier configured like the gatepass server, if its store is named."""
    redis_url, database_url = env.get("GATEPASS_REDIS_URL"), env.get("GATEPASS_DATABASE_URL")
    if not (redis_url or database_url):
        return None
    return SessionVerifier(
        issuer=issuer,
        redis_url=redis_url or None,
        redis_prefix=env.get("GATEPASS_REDIS_PREFIX", "gp:"),
        database_url=database_url or None,
        idle_ttl=int(env.get("GATEPASS_SESSION_IDLE_TTL", "1800")),
    )


ISSUER = os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
app = create_app(
    ISSUER, os.environ.get("GATEPASS_AUDIENCE", f"{ISSUER}/api"), sessions_from(os.environ, ISSUER)
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8002")))
