"""The Starlette adapter (GatepassAuth + @requires_scope) against a real gatepass server,
through httpx's ASGI transport (lifespan included): the example app, then the options it
does not use. The WebSocket handshake is driven as an ASGI server drives it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message
from starlette.websockets import WebSocket

from gatepass.resource import TokenVerifier, VerifiedToken
from gatepass.resource.adapters.starlette import GatepassAuth, requires_scope
from tests.resource.adapter_support import (
    CASES,
    Api,
    Case,
    api,  # noqa: F401 - a fixture
    bearer,
    check,
    client_id_of,
    load_example,
    reply_of,
)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://orders.test") as client,
    ):
        yield client


@pytest.fixture
async def example(api: Api) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with serving(load_example("api_starlette").create_app(api.issuer, api.audience)) as c:
        yield c


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_example_answers_as_rfc_6750_says(
    case: Case,
    api: Api,  # noqa: F811
    example: httpx.AsyncClient,
) -> None:
    response = await example.get("/orders", headers=case.headers(api), params=case.query(api))
    reply = reply_of(response.status_code, response.headers, response.content)
    check(case, reply)
    if reply.status == 200:
        assert reply.body["client_id"] == client_id_of(api.read_write)


async def test_each_method_asks_for_its_own_scope(
    api: Api,  # noqa: F811
    example: httpx.AsyncClient,
) -> None:
    assert (await example.post("/orders", headers=bearer(api.write_only))).status_code == 201
    assert (await example.get("/orders", headers=bearer(api.write_only))).status_code == 403


async def test_an_exempt_path_needs_no_token(example: httpx.AsyncClient) -> None:
    response = await example.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def _app(api: Api, **options: Any) -> Starlette:  # noqa: F811
    @requires_scope("orders:read", realm="orders")
    async def guarded(request: Request) -> JSONResponse:
        token: VerifiedToken = request.state.token
        return JSONResponse({"scopes": sorted(token.scopes)})

    @requires_scope()
    def any_token(request: Request) -> JSONResponse:  # a sync endpoint
        return JSONResponse({"subject": request.state.token.subject})

    async def open_endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"signed_in": request.state.token is not None})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"client_id": websocket.state.token.client_id})
        await websocket.close()

    verifier = TokenVerifier(api.issuer, api.audience)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with verifier:
            yield

    return Starlette(
        routes=[
            Route("/guarded", guarded),
            Route("/any", any_token),
            Route("/open", open_endpoint),
            WebSocketRoute("/ws", socket),
        ],
        middleware=[Middleware(GatepassAuth, verifier=verifier, **options)],
        lifespan=lifespan,
    )


async def test_optional_mode_lets_anonymous_requests_through_to_endpoints_that_decide(
    api: Api,  # noqa: F811
) -> None:
    async with serving(_app(api, required=False, realm="orders")) as client:
        assert (await client.get("/open")).json() == {"signed_in": False}
        signed_in = await client.get("/open", headers=bearer(api.read_write))
        assert signed_in.json() == {"signed_in": True}
        # A token that is presented is verified all the same: a bad one never passes.
        refused = await client.get("/open", headers=bearer(api.tampered()))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith(
            'Bearer realm="orders", error="invalid_token"'
        )
        # The decorator is what refuses the anonymous request, with its own realm.
        missing = await client.get("/guarded")
        assert (missing.status_code, missing.headers["www-authenticate"]) == (
            401,
            'Bearer realm="orders"',
        )
        assert (await client.get("/any")).status_code == 401


async def test_the_verified_token_reaches_async_and_sync_endpoints(
    api: Api,  # noqa: F811
) -> None:
    async with serving(_app(api)) as client:
        guarded = await client.get("/guarded", headers=bearer(api.read_write))
        assert guarded.json() == {"scopes": ["orders:read", "orders:write"]}
        any_token = await client.get("/any", headers=bearer(api.write_only))
        assert any_token.json() == {"subject": client_id_of(api.write_only)}


async def handshake(app: ASGIApp, headers: dict[str, str]) -> list[Message]:
    """What an ASGI server would send a WebSocket client: the app's messages, in order."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("orders.test", 80),
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_websocket_handshake_needs_a_token_too(api: Api) -> None:  # noqa: F811
    app = _app(api)
    async with app.router.lifespan_context(app):
        refused = await handshake(app, {})
        # RFC 6455 §7.4.1: 1008, policy violation; never accepted.
        assert refused == [{"type": "websocket.close", "code": 1008}]
        accepted = await handshake(app, bearer(api.read_write))
    assert accepted[0]["type"] == "websocket.accept"
    assert accepted[1]["text"] == f'{{"client_id":"{client_id_of(api.read_write)}"}}'


async def test_requires_scope_without_the_middleware_is_a_programming_error() -> None:
    @requires_scope("orders:read")
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({})  # pragma: no cover

    app = Starlette(routes=[Route("/", endpoint)])
    async with serving(app) as client:
        with pytest.raises(RuntimeError, match="GatepassAuth"):
            await client.get("/")


@pytest.mark.parametrize("scopes", [("orders read",), ("",), ('say"hi',)])
def test_a_scope_that_is_no_scope_token_fails_at_decoration(scopes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="scope"):
        requires_scope(*scopes)
