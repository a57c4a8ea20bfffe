"""A single-page app and its backend-for-frontend (BFF), served by one Starlette app.

The token-storage consensus (OAuth 2.0 for Browser-Based Apps, "token-mediating backend"):
the access token lives only in a JavaScript variable of static/app.js; the refresh token
never reaches JavaScript. This BFF is a confidential client: it runs the authorization
code flow with PKCE itself and keeps the refresh token in a cookie the page cannot read.

    GET  /bff/login     state + PKCE verifier in a short-lived cookie ─► 303 gatepass /authorize
    GET  /bff/callback  state checked, code exchanged at /token with the client secret,
                        refresh token ─► cookie `HttpOnly; Secure; SameSite=Strict; Path=/bff`
                        ─► 303 /
    POST /bff/token     the page's silent refresh (on load, on a 401): the cookie's refresh
                        token at gatepass /token ─► {access_token, expires_in} as JSON, the
                        rotated refresh token back into the cookie; refused ─► 401, cookie gone
    POST /bff/logout    the refresh token revoked at gatepass /revoke (RFC 7009), cookie gone
    GET  /bff/config    {"api_url": ...} for the page
    GET  /              static/: index.html, app.js, style.css (no build step)

Both POSTs need `X-Requested-With: fetch` and this app's own Origin: a cross-site form
cannot send the header, and a cross-origin fetch that sends it needs a CORS preflight,
which this app never grants. SameSite=Strict already keeps the cookie off cross-site
requests; the checks are the second lock.

Environment: GATEPASS_ISSUER (default http://127.0.0.1:8000), SPA_CLIENT_ID and
SPA_CLIENT_SECRET (required), API_URL (default http://127.0.0.1:8030), PORT (default
8020), SPA_URL (this app's public origin, default http://127.0.0.1:PORT; the redirect URI
is SPA_URL/bff/callback), SPA_SCOPES (default "offline_access notes:read notes:write").
"""

import base64
import hashlib
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("spa")

STATIC = Path(__file__).resolve().parent / "static"
REFRESH_COOKIE = "spa_refresh"
LOGIN_COOKIE = "spa_login"
LOGIN_SECONDS = 600  # time to log in and consent at gatepass
# The cookie outlives the page; gatepass decides how long the refresh token really lives
# (its idle and absolute lifetimes), and a refused one clears the cookie.
REFRESH_COOKIE_SECONDS = 90 * 24 * 3600
ISSUER_SECONDS = 10.0
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    origin: str
    api_url: str
    scopes: str

    @property
    def redirect_uri(self) -> str:
        return f"{self.origin}/bff/callback"

    @property
    def client_auth(self) -> tuple[str, str]:
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before HTTP Basic.
        return quote_plus(self.client_id), quote_plus(self.client_secret)


def config_from(env: Mapping[str, str]) -> Config:
    missing = [name for name in ("SPA_CLIENT_ID", "SPA_CLIENT_SECRET") if not env.get(name)]
    if missing:
        sys.exit(f"spa: set {' and '.join(missing)} (see examples/spa/README.md)")
    port = env.get("PORT", "8020")
    return Config(
        issuer=env.get("GATEPASS_ISSUER", "http://127.0.0.1:8000").rstrip("/"),
        client_id=env["SPA_CLIENT_ID"],
        client_secret=env["SPA_CLIENT_SECRET"],
        origin=env.get("SPA_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        api_url=env.get("API_URL", "http://127.0.0.1:8030").rstrip("/"),
        scopes=env.get("SPA_SCOPES", "offline_access notes:read notes:write"),
    )


class Issuer:
    """gatepass's endpoints, read once from its discovery document (RFC 8414)."""

    def __init__(self, config: Config, http: httpx.AsyncClient) -> None:
        self.config, self.http = config, http
        self._metadata: dict[str, Any] | None = None

    async def endpoint(self, name: str) -> str:
        if self._metadata is None:
            url = f"{self.config.issuer}/.well-known/oauth-authorization-server"
            response = await self.http.get(url)
            response.raise_for_status()
            self._metadata = response.json()
        value: str = self._metadata[name]
        return value

    async def token(self, form: dict[str, str]) -> httpx.Response:
        url = await self.endpoint("token_endpoint")
        return await self.http.post(url, data=form, auth=self.config.client_auth)

    async def revoke(self, refresh_token: str) -> None:
        url = await self.endpoint("revocation_endpoint")
        form = {"token": refresh_token, "token_type_hint": "refresh_token"}
        (await self.http.post(url, data=form, auth=self.config.client_auth)).raise_for_status()


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issuer_of(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


async def login(request: Request) -> Response:
    issuer = issuer_of(request)
    config = issuer.config
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    query = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": config.scopes,
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(
        f"{await issuer.endpoint('authorization_endpoint')}?{urlencode(query)}",
        status_code=303,
        headers=NO_STORE,
    )
    # Lax, not Strict: gatepass sends the browser back with a top-level redirect, which a
    # Strict cookie would miss when gatepass is another site. Its path keeps it off every
    # other request, and it holds nothing but this one attempt's secrets.
    response.set_cookie(
        LOGIN_COOKIE,
        f"{state}.{verifier}",
        max_age=LOGIN_SECONDS,
        path="/bff/callback",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    return response


async def callback(request: Request) -> Response:
    issuer = issuer_of(request)
    params = request.query_params
    state, _, verifier = request.cookies.get(LOGIN_COOKIE, "").partition(".")
    # RFC 6749 §10.12: the state binds this response to the browser that started the login.
    if not state or not secrets.compare_digest(params.get("state", ""), state):
        return _problem("This sign-in link is stale or was not started here.", 400)
    # RFC 9207 §2.4: a response from another issuer is a mix-up attack.
    if params.get("iss") != issuer.config.issuer:
        return _problem("The sign-in answer came from an unexpected issuer.", 400)
    if "error" in params:
        denied = "denied" if params["error"] == "access_denied" else "failed"
        return _clearing(RedirectResponse(f"/?signin={denied}", status_code=303), LOGIN_COOKIE)
    answer = await issuer.token(
        {
            "grant_type": "authorization_code",
            "code": params.get("code", ""),
            "redirect_uri": issuer.config.redirect_uri,
            "code_verifier": verifier,
        }
    )
    if answer.status_code == 400:  # invalid_grant: the code expired or was used already
        return _problem("This sign-in has expired or was completed already.", 400)
    refresh_token = answer.json().get("refresh_token") if answer.status_code == 200 else None
    if not isinstance(refresh_token, str):  # a refused secret, or no refresh_token grant
        log.warning("code exchange failed: %s", answer.status_code)
        return _problem("gatepass did not complete the sign-in. Try again.", 502)
    # The access token of this exchange is dropped: the page is about to load and asks
    # /bff/token for one, the single way a token reaches JavaScript.
    response = RedirectResponse("/", status_code=303, headers=NO_STORE)
    _set_refresh_cookie(response, refresh_token)
    return _clearing(response, LOGIN_COOKIE)


async def token(request: Request) -> Response:
    refusal = _cross_site_refusal(request)
    if refusal is not None:
        return refusal
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if not refresh_token:
        return _signed_out()
    answer = await issuer_of(request).token(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    if answer.status_code == 400:  # invalid_grant: revoked, expired or reused
        return _signed_out()
    # Anything else (gatepass down, this client's secret refused) is no reason to drop
    # the user's refresh token: a 502, and the cookie stays for the next attempt.
    answer.raise_for_status()
    body = answer.json()
    response = JSONResponse(
        {"access_token": body["access_token"], "expires_in": body["expires_in"]},
        headers=NO_STORE,
    )
    _set_refresh_cookie(response, body["refresh_token"])  # rotated: every use replaces it
    return response


async def logout(request: Request) -> Response:
    refusal = _cross_site_refusal(request)
    if refusal is not None:
        return refusal
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if refresh_token:
        # Revoking the refresh token ends its family at gatepass, and with it every access
        # token issued under it: the one in the page's memory stops working too.
        await issuer_of(request).revoke(refresh_token)
    return _clearing(Response(status_code=204, headers=NO_STORE), REFRESH_COOKIE, "/bff")


async def page_config(request: Request) -> JSONResponse:
    return JSONResponse({"api_url": issuer_of(request).config.api_url})


def _cross_site_refusal(request: Request) -> Response | None:
    """None for the page's own fetch; a 403 for anything another site could have sent."""
    origin = issuer_of(request).config.origin
    own_fetch = request.headers.get("x-requested-with") == "fetch"
    same_origin = request.headers.get("origin") == origin
    fetch_site = request.headers.get("sec-fetch-site", "same-origin") == "same-origin"
    if own_fetch and same_origin and fetch_site:
        return None
    return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)


def _set_refresh_cookie(response: Response, refresh_token: str) -> None:
    # Browsers treat http://127.0.0.1 and http://localhost as secure contexts, so a
    # Secure cookie works on a local run too; everywhere else the app needs https.
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=REFRESH_COOKIE_SECONDS,
        path="/bff",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _signed_out() -> Response:
    body = {"error": "signed_out"}
    response = JSONResponse(body, status_code=401, headers=NO_STORE)
    return _clearing(response, REFRESH_COOKIE, "/bff")


def _clearing(response: Response, name: str, path: str = "/bff/callback") -> Response:
    response.delete_cookie(name, path=path, secure=True, httponly=True, samesite="strict")
    return response


def _problem(message: str, status: int) -> Response:
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Sign-in failed</title>"
        f"<link rel=stylesheet href=/style.css><main><h1>Sign-in failed</h1><p>{message}</p>"
        '<p><a href="/">Back to the app</a></p></main></html>'
    )
    return _clearing(HTMLResponse(page, status_code=status, headers=NO_STORE), LOGIN_COOKIE)


class SecurityHeaders:
    """A strict CSP on every answer: the access token is only as safe as the page is from
    injected script, so no inline script, no third-party origin but the api's."""

    def __init__(self, app: ASGIApp, api_url: str) -> None:
        self.app = app
        api = urlsplit(api_url)
        self.policy = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' {api.scheme}://{api.netloc}; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def issuer_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("gatepass unavailable: %s", type(exc).__name__)
    return JSONResponse({"error": "issuer_unavailable"}, status_code=502, headers=NO_STORE)


def create_app(config: Config) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=ISSUER_SECONDS) as http:
            app.state.issuer = Issuer(config, http)
            yield

    app = Starlette(
        routes=[
            Route("/bff/login", login, methods=["GET"]),
            Route("/bff/callback", callback, methods=["GET"]),
            Route("/bff/token", token, methods=["POST"]),
            Route("/bff/logout", logout, methods=["POST"]),
            Route("/bff/config", page_config, methods=["GET"]),
            Mount("/", StaticFiles(directory=STATIC, html=True)),
        ],
        exception_handlers={httpx.HTTPError: issuer_unavailable},
        lifespan=lifespan,
    )
    return SecurityHeaders(app, config.api_url)


if __name__ == "__main__":
    import uvicorn

    settings = config_from(os.environ)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=int(os.environ.get("PORT", "8020")))
