"""Starlette: the ASGI middleware `GatepassAuth` and the `@requires_scope` decorator.

    app = Starlette(routes=[...], middleware=[Middleware(GatepassAuth, verifier=verifier)])

    @requires_scope("orders:read")
    async def orders(request: Request) -> Response:
        token: VerifiedToken = request.state.token

The middleware verifies the bearer token of every HTTP request and WebSocket handshake
and puts the `VerifiedToken` in `request.state.token`; a refused one gets its RFC 6750
answer (a WebSocket is closed with 1008, policy violation) and never reaches the app.
With `required=False`, a request without credentials passes with `token = None`, for
apps where only some endpoints need one: `@requires_scope()` guards those. It is pure
ASGI (no BaseHTTPMiddleware), so it works under any ASGI framework, FastAPI included.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable, Collection
from typing import Any, ParamSpec

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.resource.adapters.common import (
    Verifier,
    authenticate,
    authorize,
    refusal,
    scopes_of,
    token_in_query,
)
from gatepass.resource.errors import ResourceError

P = ParamSpec("P")
POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1
_MISSING = object()


def refusal_response(error: ResourceError, realm: str | None = None) -> Response:
    status, headers, body = refusal(error, realm)
    return JSONResponse(body, status_code=status, headers=headers)


class GatepassAuth:
    """Bearer-token authentication for every request under it (RFC 6750)."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        *,
        required: bool = True,
        realm: str | None = None,
        exempt: Collection[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.required = required
        self.realm = realm
        self.exempt = frozenset(exempt)  # exact paths left open, e.g. {"/healthz"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        headers = [v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"]
        try:
            token = await authenticate(
                self.verifier,
                headers,
                token_elsewhere=token_in_query(scope.get("query_string", b"")),
                required=self.required,
            )
        except ResourceError as exc:
            if scope["type"] == "websocket":
                refusal(exc, self.realm)  # logged; a handshake has no body to carry it
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
            await refusal_response(exc, self.realm)(scope, receive, send)
            return
        scope.setdefault("state", {})["token"] = token
        await self.app(scope, receive, send)


def requires_scope(
    *scopes: str, realm: str | None = None
) -> Callable[[Callable[P, Any]], Callable[P, Awaitable[Any]]]:
    """An endpoint that needs a token (and these scopes) from `GatepassAuth`: 401 without
    one, 403 insufficient_scope without every scope. For function endpoints and
    HTTPEndpoint methods, sync or async."""
    needed = scopes_of(scopes)

    def decorate(endpoint: Callable[P, Any]) -> Callable[P, Awaitable[Any]]:
        is_async = inspect.iscoroutinefunction(endpoint)

        @functools.wraps(endpoint)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
            connection = next((a for a in args if isinstance(a, HTTPConnection)), None)
            state = {} if connection is None else connection.scope.get("state", {})
            token = state.get("token", _MISSING)
            if token is _MISSING:
                raise RuntimeError("@requires_scope needs the GatepassAuth middleware")
            try:
                authorize(token, needed)
            except ResourceError as exc:
                return refusal_response(exc, realm)
            if is_async:
                return await endpoint(*args, **kwargs)
            return await run_in_threadpool(endpoint, *args, **kwargs)

        return guarded

    return decorate
