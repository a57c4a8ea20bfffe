"""Generated requests against a live `gatepass serve`, every answer checked against
docs/openapi.yaml: no 5xx, only documented statuses, content types, bodies and headers.

    scratch PostgreSQL database + Redis prefix ─► gatepass serve (one process)
    CLI: a confidential first-party client ─► a user signs up ─► /authorize ─► code
      ─► /token: a user's access token (for /userinfo)
    schemathesis: every operation, positive and negative data, `EXAMPLES` cases each

Every other call of an operation carries what gets it past the first gate, the other
calls go anonymous, so both the checks behind the gate and the refusals meet generated
input: HTTP Basic for the client-authenticated endpoints, the bearer token for /userinfo,
the session cookie and its CSRF token for the pages (an anonymous visitor's CSRF cookie and
token otherwise), the registered client and redirect URI for /authorize. The forms that
would end the session (logout, logout everywhere, deletion) get the anonymous visitor's
token only, so the session lasts the run. /revocations/stream is called without
credentials: with them it streams for ten minutes, by design.

Bounded: `GATEPASS_SCHEMATHESIS_EXAMPLES` cases per operation (default 10), derandomized
so a run is reproducible; raise it for a longer hunt.
"""

import base64
import hashlib
import itertools
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis import APIOperation, Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_server import LiveServer, live_server, scratch_postgres_and_redis
from tests.support import PASSWORD, POSTGRES_ADMIN_URL, REDIS_URL, SECRET_KEY, csrf_of

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.yaml"
EXAMPLES = int(os.environ.get("GATEPASS_SCHEMATHESIS_EXAMPLES", "10"))
REDIRECT_URI = "https://app.openapi.example/callback"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
REQUEST_SECONDS = 30.0  # a generous bound for a loaded box; correctness never waits on it
# Streams for ten minutes once authenticated (routes/revocation_stream.py): anonymous only.
NEVER_AUTHENTICATED = {("GET", "/revocations/stream")}
# A valid CSRF token would let these end the session every other call relies on: they get
# the anonymous visitor's token (and no session) instead.
SESSION_ENDING = {"/logout", "/account/logout-everywhere", "/account/delete"}

schema = schemathesis.openapi.from_path(DOCUMENT)
Call = Case[APIOperation[Any, Any, Any, Any]]


@dataclass(frozen=True)
class Credentials:
    server: LiveServer
    client_id: str  # a confidential first-party client's
    basic: str  # its Authorization header value
    access_token: str  # a user's access token (scope openid profile email)
    session: str  # the user's session cookie
    session_csrf: str  # the CSRF token of the user's pages
    anonymous_csrf: str  # an anonymous visitor's CSRF cookie
    anonymous_token: str  # and the CSRF token of their pages


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Credentials]:
    workdir = tmp_path_factory.mktemp("openapi")
    with (
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores,
        live_server(workdir, stores | {"GATEPASS_SECRET_KEY": SECRET_KEY}) as server,
    ):
        yield _credentials(server)


def _credentials(server: LiveServer) -> Credentials:
    created: dict[str, Any] = json.loads(
        server.cli(
            *("client", "create", "schemathesis", "--json", "--first-party"),
            *("--redirect-uri", REDIRECT_URI),
            *("--grant-type", "authorization_code", "refresh_token", "client_credentials"),
        )
    )
    pair = f"{created['client_id']}:{created['client_secret']}"
    basic = "Basic " + base64.b64encode(pair.encode()).decode()
    with httpx.Client(base_url=server.url, timeout=REQUEST_SECONDS) as browser:
        page = browser.get("/signup")
        email = f"openapi-{secrets.token_hex(4)}@example.com"
        form = {"csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD}
        signed_up = browser.post("/signup", data={**form, "name": "Schemathesis"})
        assert signed_up.status_code == 303, signed_up.text
        session = browser.cookies["gp_session"]
        session_csrf = csrf_of(browser.get("/account").text)
        code = _authorization_code(browser, created["client_id"])
    with httpx.Client(base_url=server.url, timeout=REQUEST_SECONDS) as anonymous:
        anonymous_token = csrf_of(anonymous.get("/login").text)
        anonymous_csrf = anonymous.cookies["gp_csrf"]
    token = httpx.post(
        f"{server.url}/token",
        headers={"Authorization": basic},
        data={
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": code.verifier,
        },
        timeout=REQUEST_SECONDS,
    )
    assert token.status_code == 200, token.text
    return Credentials(
        server=server,
        client_id=created["client_id"],
        basic=basic,
        access_token=token.json()["access_token"],
        session=session,
        session_csrf=session_csrf,
        anonymous_csrf=anonymous_csrf,
        anonymous_token=anonymous_token,
    )


@dataclass(frozen=True)
class _Code:
    code: str
    verifier: str


def _authorization_code(browser: httpx.Client, client_id: str) -> _Code:
    """A first-party client: a signed-in user goes straight to the redirect with a code."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = browser.get("/authorize?" + urlencode(query))
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return _Code(parse_qs(urlsplit(location).query)["code"][0], verifier)


# Alternates per operation: even calls carry credentials, odd ones go anonymous.
_turns: dict[tuple[str, str], Iterator[int]] = {}


def _with_credentials(case: Call) -> bool:
    key = (case.operation.method.upper(), case.operation.path)
    if key in NEVER_AUTHENTICATED:
        return False
    return next(_turns.setdefault(key, itertools.count())) % 2 == 0


def _schemes(case: Call) -> set[str]:
    security = case.operation.definition.raw.get("security", [])
    return {name for option in security for name in option}


def _authenticate(case: Call, creds: Credentials) -> dict[str, str]:
    """Credentials as the operation's security asks, and the values that get a request
    past the first gate (the CSRF token, a registered client) so the checks behind it
    meet generated input too. Returns the cookies to send."""
    schemes = _schemes(case)
    signed_in = "sessionCookie" in schemes and case.operation.path not in SESSION_ENDING
    cookies = {"gp_session": creds.session} if signed_in else {"gp_csrf": creds.anonymous_csrf}
    token = creds.session_csrf if signed_in else creds.anonymous_token
    authorization = None
    if "clientSecretBasic" in schemes:
        authorization = creds.basic
    elif "bearer" in schemes:
        authorization = f"Bearer {creds.access_token}"
    if authorization is not None:
        if case.headers is None:
            case.headers = CaseInsensitiveDict()
        case.headers["Authorization"] = authorization
    if isinstance(case.body, dict):
        if "csrf_token" in case.body:
            case.body["csrf_token"] = token
        if authorization is not None:  # one client authentication method, not two
            case.body.pop("client_secret", None)
            case.body.pop("client_id", None)
    if case.headers and "X-CSRF-Token" in case.headers:
        case.headers["X-CSRF-Token"] = token
    if case.operation.path == "/authorize" and isinstance(case.query, dict):
        case.query.update(client_id=creds.client_id, redirect_uri=REDIRECT_URI)
    return cookies


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_document(case: Call, credentials: Credentials) -> None:
    cookies = _authenticate(case, credentials) if _with_credentials(case) else {}
    case.call_and_validate(
        base_url=credentials.server.url,
        cookies=cookies,
        checks=CHECKS,
        timeout=REQUEST_SECONDS,
        allow_redirects=False,
    )
