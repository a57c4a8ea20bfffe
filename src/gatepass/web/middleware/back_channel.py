"""The back-channel endpoints (POST /token, /revoke, /introspect), answered ahead of the
middleware stack.

Clients and APIs call these machine to machine, far more often than any page is shown.
Each answer is JSON made by `oauth_endpoint` (web/oauth_endpoint.py), which answers every
refusal itself. So what the middleware stack adds to them is always the same: the
request limits, the security headers, the metrics and, for an exception nothing
expected, a 500. Its six layers (errors, metrics, headers, limits, exception handlers,
router) each wrap the call and `send`. On the way through them an ES256 /token answer
cost 10-20% more of the server's CPU than here (docs/benchmarks.md). Here the same is done
in one layer:

- a request whose head the limits refuse takes the stack's way, and gets the same
  refusal as before; the body is capped as the limits middleware caps it;
- the answer carries the security headers (the endpoint's own Cache-Control: no-store
  stands) and is counted under the route's template, as the router's would be;
- an exception nothing expected is logged and answered with a JSON 500 (`server_error`):
  a client of these endpoints reads JSON, never a page.

Any other method goes on to the router (405), as does every other path.
"""

import logging
import time
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.web import metrics
from gatepass.web.middleware.limits import capped, refusal_of
from gatepass.web.oauth_endpoint import json_response

log = logging.getLogger("gatepass.web")
SERVER_ERROR = {
    "error": "server_error",
    "error_description": "The server could not complete this request.",
}


class BackChannelMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Iterable[Route],
        headers: list[tuple[bytes, bytes]],
        max_bytes: int,
    ) -> None:
        """`routes`: POST routes whose endpoints answer every failure they expect
        themselves; `headers`: the security headers (security_headers.py)."""
        self.app = app
        self.routes = {route.path: route for route in routes}
        self.headers = headers
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST" or refusal_of(scope, self.max_bytes):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope["route"] = route  # the metrics' label, as the router sets it
        response = await self._answer(route, Request(scope, capped(receive, self.max_bytes)))
        response.raw_headers.extend(self.headers)
        try:
            await response(scope, receive, send)
        finally:
            metrics.record(scope, response.status_code, started)

    @staticmethod
    async def _answer(route: Route, request: Request) -> Response:
        try:
            response: Response = await route.endpoint(request)
        except Exception:
            log.exception("unhandled error on POST %s", route.path)
            return json_response(500, {}, SERVER_ERROR)
        return response
