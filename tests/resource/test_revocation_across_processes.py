"""Revoke at gatepass, refused at once by an API in another process: a real `gatepass
serve` (PostgreSQL + Redis) and the Starlette example API (examples/api_starlette) reading
the revocation feed from the same Redis, each its own process.

    client ─► gatepass /token ─► token ─► API: 200
    client ─► gatepass /revoke ─► SQL log + Redis PUBLISH ─► API's RevocationSet ─► 401
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.live_server import LiveServer, free_port, live_server, scratch_postgres_and_redis
from tests.support import PASSWORD, POSTGRES_ADMIN_URL, REDIS_URL, csrf_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api_starlette" / "app.py"
START_SECONDS = 30.0
REFUSAL_WAIT_SECONDS = 10.0  # a bound on the wait, not a performance assertion
REDIRECT_URI = "https://orders.example.com/callback"


@dataclass(frozen=True)
class Setup:
    gatepass: LiveServer
    api_url: str
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the example API exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the example API did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with (
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores,
        live_server(tmp_path_factory.mktemp("gatepass"), stores) as gatepass,
    ):
        args = ["client", "create", "Orders client", "--json", "--scope", "orders:read"]
        created = json.loads(gatepass.cli(*args, "--grant-type", "client_credentials"))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")} | {
            "GATEPASS_ISSUER": gatepass.url,
            "GATEPASS_REDIS_URL": stores["GATEPASS_REDIS_URL"],
            "GATEPASS_REDIS_PREFIX": stores["GATEPASS_REDIS_PREFIX"],
            "PORT": str(port),
        }
        log = tmp_path_factory.mktemp("api") / "api.log"
        with log.open("wb") as out:
            api = subprocess.Popen(
                [sys.executable, str(EXAMPLE)], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url, api, log)
            yield Setup(gatepass, url, created["client_id"], created["client_secret"])
        finally:
            api.terminate()
            api.wait(timeout=10)


def new_token(setup: Setup) -> str:
    response = httpx.post(
        f"{setup.gatepass.url}/token",
        data={"grant_type": "client_credentials", "scope": "orders:read"},
        headers=setup.basic(),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def orders(setup: Setup, token: str) -> httpx.Response:
    return httpx.get(
        f"{setup.api_url}/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def first_refusal(setup: Setup, token: str) -> httpx.Response:
    """The API's first answer other than 200 (or its last 200, once the wait is over)."""
    deadline = time.monotonic() + REFUSAL_WAIT_SECONDS
    answer = orders(setup, token)
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.02)
        answer = orders(setup, token)
    return answer


def test_a_token_revoked_at_gatepass_is_refused_by_the_api_in_another_process(
    setup: Setup,
) -> None:
    token = new_token(setup)
    assert orders(setup, token).status_code == 200
    revoked = httpx.post(
        f"{setup.gatepass.url}/revoke", data={"token": token}, headers=setup.basic(), timeout=10
    )
    assert revoked.status_code == 200
    answer = first_refusal(setup, token)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    # Another token of the same client is untouched.
    assert orders(setup, new_token(setup)).status_code == 200


def test_the_api_keeps_accepting_tokens_that_were_never_revoked(setup: Setup) -> None:
    tokens = [new_token(setup) for _ in range(3)]
    assert [orders(setup, token).status_code for token in tokens] == [200] * 3


def test_log_out_everywhere_reaches_the_api_in_another_process(setup: Setup) -> None:
    args = ["client", "create", "Orders web", "--json", "--first-party"]
    args += ["--redirect-uri", REDIRECT_URI, "--scope", "openid", "--scope", "orders:read"]
    app = json.loads(setup.gatepass.cli(*args))
    issuer = setup.gatepass.url
    with httpx.Client(base_url=issuer, timeout=10, follow_redirects=False) as browser:
        page = browser.get("/signup")
        email = f"orders-{time.monotonic_ns()}@example.com"
        form = {"csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD}
        assert browser.post("/signup", data=form, headers={"Origin": issuer}).status_code == 303
        verifier = "v" * 64
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid orders:read",
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        }
        landed = browser.get("/authorize", params=query)
        [code] = parse_qs(urlsplit(landed.headers["location"]).query)["code"]
        exchange = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        raw = f"{app['client_id']}:{app['client_secret']}".encode()
        basic = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        token = browser.post("/token", data=exchange, headers=basic).json()["access_token"]
        assert orders(setup, token).status_code == 200
        account = browser.get("/account")
        everywhere = {"csrf_token": csrf_of(account.text)}
        ended = browser.post(
            "/account/logout-everywhere", data=everywhere, headers={"Origin": issuer}
        )
        assert ended.status_code == 303
    assert first_refusal(setup, token).status_code == 401
