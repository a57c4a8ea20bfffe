"""Set-up before the timed run: two clients, and people who signed up and signed in to
the app through authorization code + PKCE, each with a session, a refresh-token family of
their own and a live access token. Written to a JSON file that the locustfile reads.

    per person:  GET+POST /signup ─► session cookie
                 GET /authorize (first-party: no consent) ─► code
                 POST /token authorization_code + code_verifier ─► access + refresh token
                 GET api /whoami with the access token ─► the API accepts it
"""

import asyncio
import base64
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from bench.load.stack import Stack

REDIRECT_URI = "https://app.load.example/callback"
API_SCOPE = "orders:read"
SESSION_COOKIE = "gp_session"  # the name on a loopback http issuer (no __Host- prefix)
# Sign-ups hash a password each (argon2id, ~20 MiB): a few at a time keeps memory and
# the two cores in bounds without making set-up slow.
SIGNUPS_AT_ONCE = 4
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_clients(stack: Stack) -> dict[str, dict[str, str]]:
    """The people's app (first-party, strict refresh rotation) and a service client."""
    app = ["client", "create", "load-app", "--json", "--first-party"]
    app += ["--redirect-uri", REDIRECT_URI, "--grant-type", "authorization_code", "refresh_token"]
    app += ["--scope", "openid", "offline_access", API_SCOPE]
    # Strict: a rotated token presented again revokes the family, so a client that ever
    # used anything but the newest successor would show up as failures, not be forgiven.
    app += ["--refresh-retry-window", "0"]
    service = ["client", "create", "load-service", "--json"]
    service += ["--grant-type", "client_credentials", "--scope", API_SCOPE]
    clients = {}
    for name, args in (("app", app), ("service", service)):
        created = json.loads(stack.cli(*args))
        clients[name] = {"id": created["client_id"], "secret": created["client_secret"]}
    return clients


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified: only to know which `sub` and `jti` to expect back."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


async def seed_people(stack: Stack, app: dict[str, str], count: int) -> list[dict[str, str]]:
    gate = asyncio.Semaphore(SIGNUPS_AT_ONCE)

    async def one(index: int) -> dict[str, str]:
        async with gate:
            # Spread over both processes, as a balancer would.
            return await _person(stack, stack.servers[index % 2], app)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _person(stack: Stack, server: str, app: dict[str, str]) -> dict[str, str]:
    email = f"load-{secrets.token_hex(6)}@example.com"
    async with httpx.AsyncClient(base_url=server, timeout=120) as browser:
        page = await browser.get("/signup")
        signed_up = await browser.post(
            "/signup",
            data={
                "csrf_token": _csrf_of(page.text),
                "email": email,
                "password": secrets.token_urlsafe(18),
            },
            headers={"Origin": stack.issuer},
        )
        _expect(signed_up, 303)
        tokens = await _authorization_code(browser, app)
        cookie = browser.cookies[SESSION_COOKIE]
    access = tokens["access_token"]
    async with httpx.AsyncClient(timeout=120) as client:
        seen = await client.get(
            f"{stack.api}/whoami", headers={"Authorization": f"Bearer {access}"}
        )
    _expect(seen, 200)
    if seen.json()["jti"] != claims(access)["jti"]:
        raise RuntimeError(f"set-up: the API verified another token: {seen.text}")
    return {
        "email": email,
        "sub": claims(access)["sub"],
        "cookie": cookie,
        "access_token": access,
        "refresh_token": tokens["refresh_token"],
    }


async def _authorization_code(browser: httpx.AsyncClient, app: dict[str, str]) -> dict[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": app["id"],
        "redirect_uri": REDIRECT_URI,
        "scope": f"openid offline_access {API_SCOPE}",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    landed = await browser.get("/authorize?" + urlencode(query))
    _expect(landed, 303)
    [code] = parse_qs(urlsplit(landed.headers["location"]).query)["code"]
    exchanged = await browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(app["id"], app["secret"]),
    )
    _expect(exchanged, 200)
    tokens: dict[str, str] = exchanged.json()
    return tokens


def _csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    if match is None:
        raise RuntimeError("the sign-up page has no CSRF token")
    return match.group(1)


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"set-up: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:500]}"
        )
