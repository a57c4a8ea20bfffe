"""What the framework-adapter tests share: a real `gatepass serve`, a client_credentials
client registered with the real CLI, tokens from the real /token, and the RFC 6750
answers every adapter must give (the same table for each framework).

Each adapter test module runs one server (a module-scoped fixture: fixtures defined here
are imported by the modules, as conftest files of other test packages are not shared).
"""

import base64
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, live_server
from tests.support import PASSWORD, csrf_of

ROOT = Path(__file__).parents[2]
SCOPES = ("orders:read", "orders:write")
INVALID = 'error="invalid_token"'


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: Any


@dataclass(frozen=True)
class Api:
    """The issuer and audience a protected API is configured with, and tokens for it."""

    live: LiveServer
    audience: str
    read_write: str  # orders:read orders:write
    write_only: str  # orders:write
    other_audience: str  # orders:read, for another API

    @property
    def issuer(self) -> str:
        return self.live.url

    def tampered(self) -> str:
        """The read/write token with one signature byte changed."""
        head, payload, signature = self.read_write.split(".")
        flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
        return f"{head}.{payload}.{flipped}"


def token(live: LiveServer, client: Mapping[str, str], scope: str, **extra: str) -> str:
    response = httpx.post(
        f"{live.url}/token",
        data={"grant_type": "client_credentials", "scope": scope, **extra},
        auth=(client["client_id"], client["client_secret"]),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    access: str = response.json()["access_token"]
    return access


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with live_server(tmp_path_factory.mktemp("adapters")) as live:
        args = ["client", "create", "orders-tester", "--grant-type", "client_credentials"]
        args += ["--scope", *SCOPES, "--json"]
        client = json.loads(live.cli(*args))
        other = token(live, client, "orders:read", resource="https://elsewhere.example")
        yield Api(
            live=live,
            audience=f"{live.url}/api",  # the server's default audience
            read_write=token(live, client, " ".join(SCOPES)),
            write_only=token(live, client, "orders:write"),
            other_audience=other,
        )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@dataclass(frozen=True)
class Case:
    """One request to GET /orders (needs orders:read) and the answer RFC 6750 requires."""

    id: str
    headers: Callable[[Api], dict[str, str]]
    query: Callable[[Api], dict[str, str]]
    status: int
    challenge: str | None  # WWW-Authenticate must equal this, or (None) contain INVALID


def _none(_api: Api) -> dict[str, str]:
    return {}


CASES = [
    Case("valid-token-is-200", lambda a: bearer(a.read_write), _none, 200, None),
    Case("no-token-is-401-with-a-bare-challenge__rfc6750_3_1", _none, _none, 401, "Bearer"),
    Case("another-scheme-is-no-token", lambda a: {"Authorization": "Basic Zm9vOmJhcg=="},
         _none, 401, "Bearer"),
    Case("tampered-signature-is-invalid_token", lambda a: bearer(a.tampered()), _none, 401, None),
    Case("garbage-is-invalid_token", lambda a: bearer("not.a.jwt"), _none, 401, None),
    Case("another-audience-is-invalid_token__rfc9068_4", lambda a: bearer(a.other_audience),
         _none, 401, None),
    Case("missing-scope-is-403-insufficient_scope__rfc6750_3_1",
         lambda a: bearer(a.write_only), _none, 403,
         'Bearer error="insufficient_scope", '
         'error_description="The access token lacks a required scope.", scope="orders:read"'),
    Case("token-in-the-query-is-ignored__oauth21_5_1", _none,
         lambda a: {"access_token": a.read_write}, 401, "Bearer"),
    Case("header-and-query-are-two-methods__rfc6750_2", lambda a: bearer(a.read_write),
         lambda a: {"access_token": a.read_write}, 400, None),
]  # fmt: skip


def check(case: Case, reply: Reply) -> None:
    """The answer to the case's request (`case.headers(api)`, `case.query(api)`) is the one
    RFC 6750 requires."""
    assert reply.status == case.status, (reply.status, reply.body)
    if case.status == 200:
        assert "www-authenticate" not in reply.headers
        return
    challenge = reply.headers["www-authenticate"]
    assert reply.headers["cache-control"] == "no-store"
    if case.challenge is not None:
        assert challenge == case.challenge
    elif case.status == 400:
        assert challenge.startswith('Bearer error="invalid_request"')
        assert reply.body["error"] == "invalid_request"
    else:
        assert challenge.startswith(f"Bearer {INVALID}")
        assert reply.body["error"] == "invalid_token"
    if case.status == 403:
        assert reply.body["scope"] == "orders:read"


def client_id_of(token: str) -> str:
    """A token's `client_id` claim, read without verifying (to compare with an answer)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    client_id: str = claims["client_id"]
    return client_id


def reply_of(status: int, headers: Any, content: bytes) -> Reply:
    """A Reply from any framework's test response: header names lower-cased."""
    body = json.loads(content) if content else None
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body)


def load_example(name: str) -> ModuleType:
    """examples/<name>/app.py as a module of its own name (the examples are no package)."""
    path = ROOT / "examples" / name / "app.py"
    module_name = f"example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def user_id_at(live: LiveServer, email: str) -> str:
    """The id of a user of the live server, by the real CLI."""
    [user] = [u for u in json.loads(live.cli("user", "list", "--json")) if u["email"] == email]
    user_id: str = user["id"]
    return user_id


def sign_up_at(live: LiveServer, email: str) -> str:
    """Sign up through the real /signup page; the session cookie's value."""
    with httpx.Client(base_url=live.url, timeout=30) as browser:
        page = browser.get("/signup")
        response = browser.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "email": email,
                "name": "Ada",
                "password": PASSWORD,
            },
            headers={"Origin": live.url},
        )
        assert response.status_code == 303, response.text
        secret = browser.cookies.get("gp_session")
        assert secret
        return secret
