"""The api example (examples/api) as a real subprocess against a real `gatepass serve`:
scopes per route, RFC 6750 refusals, CORS for the spa's origin, revocation within a second.
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.examples.gatepass_setup import (
    client_credentials_token,
    create_client,
    revoke,
    scope_args,
)
from tests.examples.processes import running_example
from tests.live_server import LiveServer, live_server, scratch_postgres_and_redis
from tests.support import POSTGRES_ADMIN_URL, REDIS_URL

SPA_ORIGIN = "http://127.0.0.1:8020"  # API_ALLOWED_ORIGINS' default
MINT = Path(__file__).with_name("mint_expired_token.py")
REFUSAL_WAIT_SECONDS = 10.0  # a bound on the wait, not a performance assertion


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx.Response) -> str:
    return str(response.headers.get("www-authenticate", ""))


@pytest.fixture
def token(gatepass: LiveServer, service_client: dict[str, Any]) -> str:
    return client_credentials_token(gatepass, service_client, "notes:read notes:write")


def test_me_shows_who_the_token_is_about(
    api: str, token: str, service_client: dict[str, Any]
) -> None:
    response = httpx.get(f"{api}/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    # client_credentials: the token is about the client itself (docs/clients.md)
    assert body["sub"] == body["client_id"] == service_client["client_id"]
    assert body["scope"] == ["notes:read", "notes:write"]
    assert response.headers["cache-control"] == "no-store"


def test_notes_are_written_and_read_back_per_subject(api: str, token: str) -> None:
    created = httpx.post(f"{api}/notes", json={"text": "  buy tea  "}, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["text"] == "buy tea"
    listed = httpx.get(f"{api}/notes", headers=bearer(token))
    assert listed.status_code == 200
    assert created.json() in listed.json()["notes"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"text": ""}', b'{"text": 42}', b"[1, 2]", b'{"text": "' + b"x" * 1001 + b'"}'],
    ids=["not JSON", "empty text", "text not a string", "not an object", "text too long"],
)
def test_a_bad_note_is_400_invalid_request(api: str, token: str, body: bytes) -> None:
    response = httpx.post(
        f"{api}/notes", content=body, headers=bearer(token) | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_no_token_is_401_with_a_bare_bearer_challenge__rfc6750_3_1(api: str) -> None:
    response = httpx.get(f"{api}/notes")
    assert response.status_code == 401
    assert challenge(response).startswith("Bearer realm=")
    assert "error=" not in challenge(response)


def test_a_garbage_token_is_401_invalid_token__rfc6750_3_1(api: str) -> None:
    response = httpx.get(f"{api}/me", headers=bearer("not.a.jwt"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)
    assert response.json()["error"] == "invalid_token"


def mint(live: LiveServer, age_seconds: int, client_id: str) -> str:
    """A token for `client_id` that gatepass's active key signed `age_seconds` ago."""
    minted = subprocess.run(
        [sys.executable, str(MINT), str(age_seconds), client_id, client_id, "notes:read"],
        cwd=live.workdir,
        env=dict(live.env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return minted.stdout.strip()


def test_an_expired_token_is_401_invalid_token(
    api: str, gatepass: LiveServer, service_client: dict[str, Any]
) -> None:
    client_id = service_client["client_id"]
    # The control: minted the same way, but now, the token is accepted.
    fresh = httpx.get(f"{api}/notes", headers=bearer(mint(gatepass, 0, client_id)))
    assert fresh.status_code == 200, fresh.text
    response = httpx.get(f"{api}/notes", headers=bearer(mint(gatepass, 3600, client_id)))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)


def test_a_token_for_another_audience_is_401_invalid_token__rfc9068_4(
    api: str, gatepass: LiveServer, service_client: dict[str, Any]
) -> None:
    other = client_credentials_token(
        gatepass, service_client, "notes:read", resource="https://other.example/api"
    )
    response = httpx.get(f"{api}/notes", headers=bearer(other))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)


def test_a_missing_scope_is_403_insufficient_scope__rfc6750_3_1(
    api: str, gatepass: LiveServer
) -> None:
    reader = create_client(
        gatepass, "--grant-type", "client_credentials", *scope_args("notes:read")
    )
    token = client_credentials_token(gatepass, reader, "notes:read")
    assert httpx.get(f"{api}/notes", headers=bearer(token)).status_code == 200
    response = httpx.post(f"{api}/notes", json={"text": "hi"}, headers=bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in challenge(response)
    assert 'scope="notes:write"' in challenge(response)
    assert response.json()["error"] == "insufficient_scope"


def test_the_spa_origin_passes_the_preflight(api: str) -> None:
    response = httpx.options(
        f"{api}/notes",
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    # A bearer token, not a cookie: the api never invites credentialed requests.
    assert "access-control-allow-credentials" not in response.headers


def test_another_origin_fails_the_preflight(api: str) -> None:
    response = httpx.options(
        f"{api}/notes",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_the_spa_can_read_a_refusal_and_its_challenge(api: str) -> None:
    """A 401 carries the CORS headers too: the spa must see it to know it should refresh."""
    response = httpx.get(f"{api}/me", headers={"Origin": SPA_ORIGIN} | bearer("expired.or.not"))
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert "www-authenticate" in response.headers["access-control-expose-headers"].lower()


def test_another_origin_gets_no_cors_headers_on_a_simple_request(api: str, token: str) -> None:
    response = httpx.get(f"{api}/me", headers={"Origin": "https://evil.example"} | bearer(token))
    assert "access-control-allow-origin" not in response.headers


def test_a_revoked_token_is_refused_within_moments__rfc7009(
    api: str, gatepass: LiveServer, service_client: dict[str, Any], token: str
) -> None:
    assert httpx.get(f"{api}/notes", headers=bearer(token)).status_code == 200
    revoke(gatepass, service_client, token)
    deadline = time.monotonic() + REFUSAL_WAIT_SECONDS
    response = httpx.get(f"{api}/notes", headers=bearer(token))
    while response.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        response = httpx.get(f"{api}/notes", headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)


@pytest.fixture(scope="module")
def redis_gatepass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second gatepass on PostgreSQL + Redis: revocations go out over Redis."""
    with (
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores,
        live_server(tmp_path_factory.mktemp("examples-redis"), stores) as live,
    ):
        yield live


def test_with_redis_a_revoked_token_is_refused_within_moments(
    redis_gatepass: LiveServer,
) -> None:
    client = create_client(
        redis_gatepass, "--grant-type", "client_credentials", *scope_args("notes:read")
    )
    env = {
        "GATEPASS_ISSUER": redis_gatepass.url,
        "GATEPASS_REDIS_URL": redis_gatepass.env["GATEPASS_REDIS_URL"],
        "GATEPASS_REDIS_PREFIX": redis_gatepass.env["GATEPASS_REDIS_PREFIX"],
    }
    with running_example("api", env) as redis_api:
        token = client_credentials_token(redis_gatepass, client, "notes:read")
        assert httpx.get(f"{redis_api}/notes", headers=bearer(token)).status_code == 200
        revoke(redis_gatepass, client, token)
        deadline = time.monotonic() + REFUSAL_WAIT_SECONDS
        while (
            response := httpx.get(f"{redis_api}/notes", headers=bearer(token))
        ).status_code == 200:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)
