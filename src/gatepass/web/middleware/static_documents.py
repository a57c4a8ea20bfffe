"""The static documents, answered ahead of the router: provider metadata and the JWKS.

Every client and resource server fetches these, and they are the same bytes for everyone
(no session, no cookie, nothing from the request). Starlette's routing and its request
and response objects cost more than such an answer itself, so a GET or HEAD of one of
these paths is answered here from precomputed headers and a body rendered once per
change (routes/discovery.py, routes/jwks.py); any other method goes on to the router,
which answers 405. This is the outermost layer (web/app.py): it adds the security headers
and counts its answers in the metrics itself, which costs less than passing through the
middlewares that do so for every other answer.

`answer_at_once` is the same answer without ASGI at all, for an HTTP server that can
write it itself (`gatepass serve`'s protocol, cli/http_protocol.py): uvicorn's request
cycle (a task, scope, messages, checks per header) costs three times what the answer
does. It answers only when the document's bytes are at hand with no waiting (the JWKS
not due for a reload); otherwise the request takes the way above.
"""

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.web import metrics

Body = Callable[[Scope], Awaitable[bytes]]  # the document's current bytes
AtHand = Callable[[Any], bytes | None]  # (the app) its current bytes if no I/O is due, else None
Answer = tuple[list[tuple[bytes, bytes]], bytes]  # the headers and the body of a 200


@dataclass(frozen=True)
class Document:
    body: Body
    media_type: str
    cache_control: str
    at_hand: AtHand

    def headers(self, length: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", self.media_type.encode()),
            (b"content-length", str(length).encode()),
            (b"cache-control", self.cache_control.encode()),
            # Public facts: browser apps (SPAs verifying id tokens) read them across origins.
            (b"access-control-allow-origin", b"*"),
        ]

    def route(self, path: str) -> Route:
        """The same answer through the router (GET, HEAD; 405 for other methods)."""

        async def endpoint(request: Request) -> Response:
            body = await self.body(request.scope)
            return Response(body, headers=dict(_text(self.headers(len(body)))))

        return Route(path, endpoint, methods=["GET"])


class StaticDocumentsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        documents: Mapping[str, Document],
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        """`headers`: what every answer of the server carries (the security headers)."""
        self.app = app
        self.documents = dict(documents)
        self.headers = headers
        # Named as the router names its matches (scope["route"]), for the metrics' labels.
        self.routes = {path: document.route(path) for path, document in documents.items()}
        self._answers: dict[str, Answer] = {}  # path -> the last answer made, by its body

    def answer_at_once(self, app: Any, method: str, path: str) -> Answer | None:
        """The 200 answer to `method` (GET or HEAD) `path`, headers and body (the body
        whether or not the method is HEAD), if it is one of the documents and its bytes
        are at hand; counted in the metrics as answered. None: answer by `__call__`."""
        document = self.documents.get(path)
        if document is None or method not in ("GET", "HEAD"):
            return None
        started = time.perf_counter()
        body = document.at_hand(app)
        if body is None:
            return None
        answer = self._answers.get(path)
        if answer is None or answer[1] is not body:  # the headers, once per body
            answer = [*document.headers(len(body)), *self.headers], body
            self._answers[path] = answer
        metrics.count(self.routes[path].path, method, 200, started)
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        document = self.documents.get(scope["path"]) if scope["type"] == "http" else None
        if document is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            body = await document.body(scope)
        except Exception:
            # Out here no exception handler renders the 503 (SECURITY.md decision 3), nor
            # a 500: the router's twin of this route asks again, inside them.
            await self.app(scope, receive, send)
            return
        scope["route"] = self.routes[scope["path"]]
        start = {"type": "http.response.start", "status": 200}
        await send({**start, "headers": [*document.headers(len(body)), *self.headers]})
        await send(
            {"type": "http.response.body", "body": body if scope["method"] == "GET" else b""}
        )
        metrics.record(scope, 200, started)


def _text(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode(), value.decode()) for name, value in headers]
