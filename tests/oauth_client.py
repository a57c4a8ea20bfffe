"""The client side of the authorization code flow with PKCE (RFC 7636, S256), for the tests
that drive live `gatepass serve` processes (tests/scale/, tests/faults/):

    register_app            `gatepass client create` a confidential first-party app
                            (no consent page): its id and secret
    authorization_request   a PKCE verifier and the /authorize path that asks a code for it
    code_exchange           the /token form that redeems the code with that verifier

Each caller sends these with its own HTTP client (a browser, a balancer, a fresh client per
step), and names its own redirect URI, scopes and grants.
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class App:
    """A registered confidential client; it authenticates at /token with HTTP Basic."""

    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_app(
    cli: Callable[..., str],
    name: str,
    redirect_uri: str,
    scopes: Sequence[str],
    grant_types: Sequence[str],
    *extra: str,
) -> App:
    """A first-party app named `name` and a random suffix, created by `cli` (a process's
    `gatepass` command on its storage); `extra` are more `client create` options."""
    args = ["client", "create", f"{name}-{secrets.token_hex(4)}", "--json", "--first-party"]
    args += ["--redirect-uri", redirect_uri, "--scope", *scopes]
    args += ["--grant-type", *grant_types, *extra]
    created: dict[str, Any] = json.loads(cli(*args))
    return App(created["client_id"], created["client_secret"])


def authorization_request(client_id: str, redirect_uri: str, **params: str) -> tuple[str, str]:
    """A PKCE verifier and the /authorize path that asks a code for it, with the scopes
    openid and offline_access; `params` add to the query (state, nonce, prompt...)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid offline_access",
        **params,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    return verifier, "/authorize?" + urlencode(query)


def code_exchange(code: str, verifier: str, redirect_uri: str) -> dict[str, str]:
    """The /token form that redeems `code`: RFC 6749 §4.1.3, with the PKCE verifier."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
