"""POST /token, /revoke and /introspect answered ahead of the middleware stack
(web/middleware/back_channel.py): the same answers as through the stack, the same
limits, headers and metrics, and JSON even for a failure nothing expected."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.config import Settings
from gatepass.oauth.grants import client_credentials
from gatepass.storage.backends import Backends
from gatepass.web.middleware.back_channel import BackChannelMiddleware
from gatepass.web.middleware.security_headers import security_headers
from tests.support import metric_value
from tests.token.conftest import App, MakeApp, assert_error
from tests.token.test_client_credentials import machine, request_token


@pytest.fixture
async def stack_client(
    client: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """The same app, entered below the lane: every request takes the middleware stack."""
    await client.get("/jwks.json")  # the first request builds the middleware stack
    app = client._transport.app  # type: ignore[attr-defined]
    lane = app.middleware_stack.app
    assert isinstance(lane, BackChannelMiddleware)
    stack: ASGIApp = lane.app

    async def below_the_lane(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # what Starlette.__call__ sets before its stack
        await stack(scope, receive, send)

    transport = httpx.ASGITransport(app=below_the_lane, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as http:
        yield http


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    """The answer's headers but its length, which differs with the token's random parts."""
    return [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]


async def test_answers_carry_the_headers_the_stack_gives_them(
    client: httpx.AsyncClient, stack_client: httpx.AsyncClient, make_app: MakeApp
) -> None:
    app = await machine(make_app)
    cases = [
        {},  # 200
        {"scope": "orders:delete"},  # 400 invalid_scope
    ]
    for form in cases:
        lane, stacked = [await request_token(c, app, **form) for c in (client, stack_client)]
        assert lane.status_code == stacked.status_code
        assert _headers(lane) == _headers(stacked)
        assert lane.json().keys() == stacked.json().keys()
    # 401 invalid_client: WWW-Authenticate besides (RFC 6749 §5.2)
    wrong = [await request_token(c, app, secret="wrong") for c in (client, stack_client)]
    assert wrong[0].status_code == wrong[1].status_code == 401
    assert _headers(wrong[0]) == _headers(wrong[1])
    for name, value in security_headers(https=False):
        assert wrong[0].headers[name.decode()] == value.decode()


async def test_revoke_and_introspect_take_the_lane_with_the_same_headers(
    client: httpx.AsyncClient, stack_client: httpx.AsyncClient, make_app: MakeApp
) -> None:
    app = await machine(make_app)
    token = (await request_token(client, app)).json()["access_token"]
    for path in ("/introspect", "/revoke"):
        lane = await client.post(path, data={"token": token}, headers=app.basic())
        stacked = await stack_client.post(path, data={"token": token}, headers=app.basic())
        assert lane.status_code == stacked.status_code == 200
        assert _headers(lane) == _headers(stacked)
    # Revoked through the lane: the introspection through the stack says so (RFC 7662 §2.2).
    answer = await stack_client.post("/introspect", data={"token": token}, headers=app.basic())
    assert answer.json() == {"active": False}


async def test_a_failure_nothing_expected_is_a_json_500_and_is_logged(
    client: httpx.AsyncClient,
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = await machine(make_app)

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in a grant")

    monkeypatch.setattr(client_credentials, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="gatepass.web"):
        response = await request_token(client, app)
    assert_error(response, "server_error", 500)
    assert "Traceback" not in response.text
    assert "a bug in a grant" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert any("unhandled error on POST /token" in r.getMessage() for r in caplog.records)
    metrics = (await client.get("/metrics")).text
    assert 'gatepass_http_requests_total{method="POST",route="/token",status="500"}' in metrics


async def test_answers_are_counted_under_the_route(
    client: httpx.AsyncClient, make_app: MakeApp
) -> None:
    app = await machine(make_app)
    series = 'gatepass_http_requests_total{method="POST",route="/token",status="200"}'
    before = metric_value((await client.get("/metrics")).text, series)
    for _ in range(3):
        assert (await request_token(client, app)).status_code == 200
    assert metric_value((await client.get("/metrics")).text, series) == before + 3


async def test_the_limits_hold_in_the_lane(
    client: httpx.AsyncClient, settings: Settings, make_app: MakeApp
) -> None:
    app = await machine(make_app)
    big = "x" * (settings.max_body_bytes + 1)
    # Declared too large: refused by the limits middleware, as before the lane.
    declared = await client.post("/token", content=f"scope={big}", headers=app.basic())
    assert declared.status_code == 413
    # Streamed (chunked, no Content-Length) past the cap: stopped as it arrives.

    async def chunks() -> AsyncIterator[bytes]:
        yield b"grant_type=client_credentials&scope="
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024

    streamed = await client.post(
        "/token",
        content=chunks(),
        headers={**app.basic(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(streamed, "invalid_request", 413)
    nul = await client.post("/token?x=%00", data={"grant_type": "client_credentials"})
    assert nul.status_code == 400
    # Other methods are the router's: 405, as for any route.
    assert (await client.get("/token")).status_code == 405


async def test_the_lane_answers_before_the_middleware_stack(
    client: httpx.AsyncClient, make_app: MakeApp, backends: Backends
) -> None:
    """The stack is not entered for a lane's request: a stack that fails on entry does
    not stop the token endpoint, and still answers every other path."""
    app: App = await machine(make_app)
    await client.get("/jwks.json")
    lane = client._transport.app.middleware_stack.app  # type: ignore[attr-defined]

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError(f"the stack was entered for {scope['path']}")

    lane.app, stack = refusing, lane.app
    try:
        assert (await request_token(client, app)).status_code == 200
        with pytest.raises(AssertionError, match="/login"):
            await client.get("/login")
    finally:
        lane.app = stack
