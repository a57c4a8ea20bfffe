"""An app's sign-in through gatepass, where the person signs in at an upstream provider:
live processes only, nothing in-process.

    app ──/authorize (code, S256, nonce, state)──> gatepass (live `gatepass serve`)
          login page ──"Continue with Corp SSO"──> oidc-provider (npm, live)
          <──callback── sign-in there ──> back to /authorize ──> consent ──> app?code&state&iss
    app ──/token──> id token, checked by PyJWT against gatepass's JWKS: the local user's
          sub, amr ["fed"], idp "corp"; /userinfo: the upstream person's address

The provider is added with `gatepass provider add` (secret on stdin) and removed with
`gatepass provider remove`, as an operator would, on SQLite and on PostgreSQL + Redis.
"""

import asyncio
import base64
import hashlib
import html
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest

from tests.federation import oidc_provider
from tests.federation.conftest import CORP, CORP_NAME, PEOPLE
from tests.federation.harness_fixtures import StartOidcProvider
from tests.federation.oidc_provider import OidcClient
from tests.interop.user_agent import form_posting_to, submit
from tests.live_server import (
    BINARY,
    CLI_SECONDS,
    LiveServer,
    live_server,
    scratch_postgres_and_redis,
)
from tests.support import POSTGRES_ADMIN_URL, REDIS_URL

APP_CALLBACK = "http://127.0.0.1:9/app/callback"  # never served: the flow stops there
UPSTREAM_CLIENT_ID = "gatepass-live-rp"
ANCHOR = re.compile(r'<a [^>]*href="([^"]+)"[^>]*>\s*([^<]+?)\s*</a>')


@pytest.fixture(params=("sqlite", "postgres-redis"))
def rp(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The relying party: a live `gatepass serve` on SQLite, or on PostgreSQL + Redis."""
    workdir = tmp_path_factory.mktemp(f"federated-{request.param}")
    if request.param == "sqlite":
        with live_server(workdir) as live:
            yield live
        return
    with (
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores,
        live_server(workdir, stores) as live,
    ):
        yield live


def run_cli(rp: LiveServer, *args: str, stdin: str = "") -> str:
    """`gatepass ARGS...` with the server's environment and directory, `stdin` on its
    standard input (LiveServer.cli gives it none); its stdout."""
    done = subprocess.run(
        [str(BINARY), *args],
        cwd=rp.workdir,
        env=dict(rp.env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (
        f"gatepass {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
    )
    return done.stdout


@dataclass(frozen=True)
class App:
    """An application registered at gatepass with `gatepass client create`."""

    client_id: str
    client_secret: str


def register_app(rp: LiveServer) -> App:
    name = f"app-{secrets.token_hex(4)}"
    created = json.loads(rp.cli("client", "create", name, "--json", "--redirect-uri", APP_CALLBACK))
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    return App(created["client_id"], created["client_secret"])


def add_corp(rp: LiveServer, corp_issuer: str, secret: str) -> dict[str, Any]:
    """`gatepass provider add corp ... --client-secret-stdin --json`, checked."""
    printed = run_cli(
        rp,
        "provider", "add", CORP,
        "--issuer", corp_issuer,
        "--client-id", UPSTREAM_CLIENT_ID,
        "--client-secret-stdin",
        "--display-name", CORP_NAME,
        "--json",
        stdin=secret + "\n",
    )  # fmt: skip
    assert secret not in printed
    added: dict[str, Any] = json.loads(printed)
    assert added["redirect_uri"] == f"{rp.url}/login/{CORP}/callback"
    assert (added["name"], added["kind"], added["issuer"]) == (CORP, "oidc", corp_issuer)
    assert added["client_id"] == UPSTREAM_CLIENT_ID
    listed = run_cli(rp, "provider", "list", "--json")
    assert secret not in listed
    [shown] = [p for p in json.loads(listed) if p["name"] == CORP]
    assert "client_secret" not in shown
    assert shown["display_name"] == CORP_NAME
    return added


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


def authorization_request(rp: LiveServer, app: App) -> AuthorizationRequest:
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": APP_CALLBACK,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return AuthorizationRequest(f"{rp.url}/authorize?{urlencode(query)}", state, nonce, verifier)


def links_of(page: httpx.Response) -> dict[str, str]:
    """The page's links inside <main>, by their text."""
    main = page.text.split("<main>", 1)[1].split("</main>", 1)[0]
    return {html.unescape(text): html.unescape(href) for href, text in ANCHOR.findall(main)}


async def sign_in_through_corp(
    browser: httpx.AsyncClient, rp: LiveServer, request: AuthorizationRequest
) -> httpx.Response:
    """From the app's /authorize to gatepass's consent page, by way of Corp SSO."""
    to_login = await browser.get(request.url)
    assert to_login.status_code == 303, to_login.text
    login_page = await browser.get(to_login.headers["location"])
    assert login_page.status_code == 200
    continue_with = links_of(login_page)[f"Continue with {CORP_NAME}"]
    out = await browser.get(continue_with)
    assert out.status_code == 303, out.text
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as corp_browser:
        back = await oidc_provider.sign_in(corp_browser, out.headers["location"], "alice")
    assert back.startswith(f"{rp.url}/login/{CORP}/callback?"), back
    signed_in = await browser.get(back)
    assert signed_in.status_code == 303, signed_in.text
    resumed = browser.build_request("GET", signed_in.headers["location"]).url
    assert resumed.path == "/authorize"  # the app's request continues
    consent = await browser.get(resumed)
    assert consent.status_code == 200, consent.text
    return consent


async def allow(browser: httpx.AsyncClient, consent: httpx.Response) -> httpx.URL:
    form = form_posting_to(consent, "/consent")
    assert form is not None, f"not the consent page:\n{consent.text}"
    answer = await submit(browser, consent, form, button=("decision", "allow"))
    assert answer.status_code == 303, answer.text
    return httpx.URL(answer.headers["location"])


async def redeem(
    rp: LiveServer, app: App, code: str, request: AuthorizationRequest, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The app's token request (client_secret_basic, PKCE verifier), plain httpx."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": APP_CALLBACK,
                "code_verifier": request.code_verifier,
            },
            auth=(app.client_id, app.client_secret),
        )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def verified_id_token(metadata: dict[str, Any], id_token: str, app: App) -> dict[str, Any]:
    """PyJWT's reading: signature by the JWKS key the token names, iss, aud, exp."""
    keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_jwk_set=False)
    key = await asyncio.to_thread(keys.get_signing_key_from_jwt, id_token)
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=app.client_id,
        issuer=metadata["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce", "amr"]},
    )
    return claims


def local_user_id(rp: LiveServer, email: str) -> str:
    [user] = [u for u in json.loads(rp.cli("user", "list", "--json")) if u["email"] == email]
    user_id: str = user["id"]
    return user_id


async def test_an_app_signs_in_a_person_who_logs_in_at_the_upstream(
    rp: LiveServer, start_oidc_provider: StartOidcProvider
) -> None:
    secret = secrets.token_urlsafe(32)
    callback = f"{rp.url}/login/{CORP}/callback"
    corp = start_oidc_provider([OidcClient(UPSTREAM_CLIENT_ID, secret, (callback,))], PEOPLE)
    add_corp(rp, corp, secret)
    app = register_app(rp)
    request = authorization_request(rp, app)
    async with httpx.AsyncClient(base_url=rp.url, timeout=30) as browser:
        metadata = (await browser.get("/.well-known/openid-configuration")).json()
        consent = await sign_in_through_corp(browser, rp, request)
        landed = await allow(browser, consent)
    # RFC 6749 §4.1.2 and RFC 9207 §2: code, the state unchanged, and who issued it.
    assert str(landed).split("?")[0] == APP_CALLBACK
    assert landed.params["state"] == request.state
    assert landed.params["iss"] == rp.url
    tokens = await redeem(rp, app, landed.params["code"], request, metadata)
    claims = await verified_id_token(metadata, tokens["id_token"], app)
    assert claims["sub"] == local_user_id(rp, PEOPLE["alice"].email)
    assert claims["sub"] != "alice"  # never the upstream's subject
    assert claims["amr"] == ["fed"]
    assert claims["idp"] == CORP
    assert claims["nonce"] == request.nonce
    async with httpx.AsyncClient(timeout=30) as http:
        userinfo = await http.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["email"] == PEOPLE["alice"].email

    # The operator removes the provider: no longer offered, and its login is gone.
    removed = run_cli(rp, "provider", "remove", CORP)
    assert f"removed provider {CORP}" in removed
    assert CORP not in {p["name"] for p in json.loads(run_cli(rp, "provider", "list", "--json"))}
    async with httpx.AsyncClient(base_url=rp.url, timeout=30) as browser:
        login_page = await browser.get("/login")
        assert login_page.status_code == 200
        assert CORP_NAME not in login_page.text
        gone = await browser.get(f"/login/{CORP}")
        assert gone.status_code == 404
        assert "Traceback" not in gone.text
        assert "Not Found" in gone.text or "not found" in gone.text.lower()
