"""FastAPI: dependencies `current_token`, `require_scope(...)` and `current_user`.

    install(app, tokens=TokenVerifier(issuer, audience), sessions=SessionVerifier(...))

    @app.get("/orders")
    async def orders(token: Annotated[VerifiedToken, Depends(require_scope("orders:read"))]):
        ...

    @app.get("/me")
    async def me(user: Annotated[VerifiedSession, Depends(current_user)]): ...

`install` puts the verifiers on `app.state` and registers one exception handler, so every
refusal renders as the toolkit's RFC 6750 answer (`WWW-Authenticate`, JSON error body)
rather than FastAPI's `{"detail": ...}`. Starting and closing the verifiers belongs to
the app's lifespan (`async with verifier:`). Behind `GatepassAuth` (adapters/starlette.py)
`current_token` takes the token the middleware verified instead of verifying again.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from gatepass.resource.adapters.common import (
    Verifier,
    authenticate,
    authorize,
    refusal,
    scopes_of,
    token_in_query,
)
from gatepass.resource.errors import ResourceError
from gatepass.resource.sessions import SessionVerifier, VerifiedSession
from gatepass.resource.tokens import VerifiedToken


@dataclass(frozen=True)
class _Installed:
    tokens: Verifier | None
    sessions: SessionVerifier | None
    realm: str | None


def install(
    app: FastAPI,
    *,
    tokens: Verifier | None = None,
    sessions: SessionVerifier | None = None,
    realm: str | None = None,
) -> None:
    """Make the verifiers available to the dependencies, and render their refusals."""
    installed = _Installed(tokens, sessions, realm)
    app.state.gatepass = installed

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ResourceError)  # registered for ResourceError only
        status, headers, body = refusal(exc, installed.realm)
        return JSONResponse(body, status_code=status, headers=headers)

    app.add_exception_handler(ResourceError, refused)


def _installed(request: Request) -> _Installed:
    found = getattr(request.app.state, "gatepass", None)
    if not isinstance(found, _Installed):
        raise RuntimeError("call gatepass.resource.adapters.fastapi.install(app, ...) first")
    return found


async def current_token(request: Request) -> VerifiedToken:
    """The request's verified bearer token; 401 without one or with a bad one."""
    already = request.scope.get("state", {}).get("token")
    if isinstance(already, VerifiedToken):
        return already  # GatepassAuth verified it
    verifier = _installed(request).tokens
    if verifier is None:
        raise RuntimeError("install(app, tokens=...) to use current_token")
    token = await authenticate(
        verifier,
        request.headers.getlist("authorization"),
        token_elsewhere=token_in_query(request.scope.get("query_string", b"")),
    )
    return authorize(token, ())


def require_scope(*scopes: str) -> Callable[..., Awaitable[VerifiedToken]]:
    """A dependency: the verified token, if it carries every one of `scopes`; else 403
    insufficient_scope naming them (RFC 6750 §3.1)."""
    needed = scopes_of(scopes)

    async def scoped(token: Annotated[VerifiedToken, Depends(current_token)]) -> VerifiedToken:
        return authorize(token, needed)

    return scoped


async def current_user(request: Request) -> VerifiedSession:
    """The signed-in gatepass user of this request's session cookie; 401 without a live
    session (SessionRejected), 503 when the session store cannot answer."""
    verifier = _installed(request).sessions
    if verifier is None:
        raise RuntimeError("install(app, sessions=...) to use current_user")
    return await verifier.verify_cookies(request.cookies)
