"""What the token endpoint refuses before any grant runs: client authentication (RFC 6749
§2.3, §3.2.1, §5.2; SECURITY.md R15), grant types (R16), form rules (R22) and HTTP hygiene."""

import base64
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from gatepass.config import Settings
from gatepass.storage.backends import Backends, open_redis
from gatepass.storage.redis.throttle import RedisThrottleStore
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.throttle import SqlThrottleStore
from tests.support import web_client
from tests.token.conftest import Exchange, IssueCode, MakeApp, assert_error, assert_no_store


def assert_invalid_client(response: httpx.Response) -> None:
    # RFC 6749 §5.2: 401, and WWW-Authenticate naming the scheme to use.
    assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic realm=")


@pytest.mark.parametrize("auth", ["basic", "post"])
async def test_a_wrong_client_secret_is_401_invalid_client__rfc6749_5_2(
    auth: str, make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    code = await issue_code(app)
    if auth == "basic":
        response = await exchange(app, code, headers=app.basic("wrong"), auth="")
    else:
        response = await exchange(app, code, auth="post", client_secret="wrong")
    assert_invalid_client(response)


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"client_id": "gpc_" + "A" * 43},
        {"client_id": "not-a-client"},
    ],
    ids=["no client at all", "an unknown client", "a malformed client_id"],
)
async def test_an_unauthenticated_client_is_401_invalid_client__rfc6749_3_2_1(
    form: dict[str, str], make_app: MakeApp, exchange: Exchange
) -> None:
    app = await make_app()
    assert_invalid_client(await exchange(app, "c" * 43, auth="", **form))


async def test_a_confidential_client_without_its_secret_is_refused__rfc6749_3_2_1(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    assert_invalid_client(await exchange(app, await issue_code(app), auth="none"))


async def test_a_public_client_presenting_a_secret_is_refused__rfc6749_2_1(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app(public=True)
    code = await issue_code(app)
    assert_invalid_client(await exchange(app, code, auth="none", client_secret="x" * 43))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer abc", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode()],
    ids=["another scheme", "bad base64", "no colon"],
)
async def test_malformed_basic_credentials_are_401_invalid_client__rfc6749_2_3_1(
    authorization: str, make_app: MakeApp, exchange: Exchange
) -> None:
    app = await make_app()
    response = await exchange(app, "c" * 43, auth="", headers={"Authorization": authorization})
    assert_invalid_client(response)


async def test_two_authentication_methods_at_once_are_invalid_request__rfc6749_2_3(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    code = await issue_code(app)
    response = await exchange(app, code, client_secret=app.secret)  # Basic as well
    assert_error(response, "invalid_request")


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:example:unknown"])
async def test_password_implicit_and_unknown_grants_are_unsupported__rfc9700_2_4_rfc6749_5_2(
    grant_type: str, make_app: MakeApp, exchange: Exchange
) -> None:
    app = await make_app()
    response = await exchange(
        app, "c" * 43, grant_type=grant_type, username="ada@example.com", password="pw"
    )
    assert_error(response, "unsupported_grant_type")


async def test_a_missing_grant_type_is_invalid_request__rfc6749_4_1_3(
    make_app: MakeApp, exchange: Exchange
) -> None:
    app = await make_app()
    assert_error(await exchange(app, "c" * 43, grant_type=None), "invalid_request")


async def test_a_client_not_registered_for_the_grant_is_unauthorized__rfc6749_5_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app(grant_types=("client_credentials",))
    assert_error(await exchange(app, await issue_code(app)), "unauthorized_client")


async def test_a_repeated_parameter_is_invalid_request__rfc6749_3_2(
    make_app: MakeApp, issue_code: IssueCode, client: httpx.AsyncClient
) -> None:
    app = await make_app()
    code = await issue_code(app)
    body = f"grant_type=authorization_code&code={code}&code={code}&code_verifier=x"
    response = await client.post(
        "/token",
        content=body,
        headers={**app.basic(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, "invalid_request")


async def test_a_json_body_is_refused_with_an_oauth_error__rfc6749_3_2(
    make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await make_app()
    response = await client.post(
        "/token", json={"grant_type": "authorization_code"}, headers=app.basic()
    )
    assert_error(response, "invalid_request", 415)


async def test_an_oversized_body_is_413__asvs_4_2_5(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post("/token", data={"code": "x" * (settings.max_body_bytes + 1)})
    assert response.status_code == 413
    assert_no_store(response)


async def test_a_streamed_oversized_body_is_413_json__asvs_4_2_5(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async def chunks() -> Any:
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"a" * 1024

    response = await client.post(
        "/token",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, "invalid_request", 413)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post_is_served__rfc6749_3_2(method: str, client: httpx.AsyncClient) -> None:
    response = await client.request(method, "/token")
    assert response.status_code == 405
    assert_no_store(response)


async def test_repeated_bad_secrets_are_throttled_and_the_right_one_waits__oauth21_2_4_1(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    make_settings: Callable[..., Settings],
    app_client: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]],
) -> None:
    app = await make_app()
    limited = make_settings(login_account_limit=3)
    async with app_client(limited) as http:
        for _ in range(3):
            response = await exchange(app, "c" * 43, headers=app.basic("wrong"), auth="", http=http)
            assert_invalid_client(response)
        throttled = await exchange(app, "c" * 43, headers=app.basic("wrong"), auth="", http=http)
        assert_error(throttled, "invalid_client", 429)
        assert int(throttled.headers["retry-after"]) > 0
        # Once over the limit the secret is not even checked: the right one waits too.
        right = await exchange(app, await issue_code(app), http=http)
        assert right.status_code == 429
    # Another client is not held up by this one's failures.
    other = await make_app()
    async with app_client(limited) as http:
        response = await exchange(other, await issue_code(other), http=http)
        assert response.status_code == 200, response.text


async def test_successful_exchanges_are_never_throttled__oauth21_2_4_1(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    make_settings: Callable[..., Settings],
    app_client: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]],
) -> None:
    app = await make_app()
    limited = make_settings(login_account_limit=2, login_address_limit=2)
    async with app_client(limited) as http:
        for _ in range(4):
            response = await exchange(app, await issue_code(app), http=http)
            assert response.status_code == 200, response.text


async def test_an_unavailable_store_is_503_json_with_retry_after__security_decision_3(
    make_app: MakeApp, settings: Settings, backends: Backends
) -> None:
    app = await make_app()
    nowhere = "127.0.0.1:1"  # nothing listens on port 1
    if backends.redis is None:
        dead_engine = create_engine(f"postgresql://gatepass@{nowhere}/gatepass")
        broken = replace(backends, throttle=SqlThrottleStore(dead_engine))
    else:
        dead_redis = open_redis(f"redis://{nowhere}/0")
        broken = replace(backends, throttle=RedisThrottleStore(dead_redis, settings.redis_prefix))
    try:
        async with web_client(settings, broken) as http:
            response = await http.post(
                "/token", data={"grant_type": "authorization_code"}, headers=app.basic()
            )
    finally:
        if backends.redis is None:
            await dead_engine.dispose()
        else:
            await dead_redis.aclose()
    assert_error(response, "temporarily_unavailable", 503)
    assert int(response.headers["retry-after"]) > 0
