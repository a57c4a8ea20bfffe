"""A "mobile-style" native client on the command line: a public client (no secret) that
signs the user in through the system browser with the authorization code flow + PKCE and
a loopback redirect (RFC 8252), then calls the notes API with the tokens it keeps in
memory only, refreshing the access token when it is about to expire or is refused.

    app ── bind 127.0.0.1:<free port> ─► print/open /authorize?...&redirect_uri=
             http://127.0.0.1:<port>/callback&code_challenge=S256(verifier)&state&nonce
    browser: login + consent at gatepass ─► 302 to the loopback URI with code, state, iss
    app ── /token code + code_verifier ─► access, refresh and id tokens (in memory)
    app ── Bearer ─► api GET /me, GET /notes   (refresh first if expiring; on 401 refresh once)
    app ── /revoke the refresh token at the end: nothing outlives the process

Environment: NATIVE_CLIENT_ID (required), GATEPASS_ISSUER (default http://127.0.0.1:8000),
API_URL (default http://127.0.0.1:8030), NATIVE_SCOPE (default "openid profile
offline_access notes:read notes:write"). Exit 0 on success, 1 when a step is refused or
times out, 2 when configuration is missing.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import webbrowser
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from loopback import LoopbackReceiver, RedirectFailed

TIMEOUT_SECONDS = 10.0
DEFAULT_SCOPE = "openid profile offline_access notes:read notes:write"


class NativeError(Exception):
    """A step was refused; the message says which (never a token)."""


class MissingConfiguration(Exception):
    """A required environment variable is not set."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def say(line: str) -> None:
    print(line, flush=True)  # flushed: a test (or a pipe) reads each line as it comes


@dataclass
class Tokens:
    """What /token answered, in memory only: never written to disk, never printed."""

    access_token: str
    refresh_token: str | None
    expires_at: float  # time.monotonic() when the access token expires

    @classmethod
    def from_response(cls, body: Mapping[str, Any], previous: "Tokens | None" = None) -> "Tokens":
        if not isinstance(body.get("access_token"), str):
            raise NativeError("the token response has no access token")
        # RFC 6749 §6: a refresh response may omit the refresh token: keep the old one.
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        lifetime = float(body.get("expires_in", 60))
        return cls(body["access_token"], refresh, time.monotonic() + lifetime)


class Gatepass:
    """The provider's endpoints, from its metadata (OIDC Discovery), for a public client."""

    def __init__(self, http: httpx.Client, issuer: str, client_id: str) -> None:
        self.http, self.issuer, self.client_id = http, issuer.rstrip("/"), client_id
        response = http.get(f"{self.issuer}/.well-known/openid-configuration")
        self.metadata: dict[str, Any] = response.json() if response.status_code == 200 else {}
        # OIDC Discovery §4.3: the issuer in the metadata is exactly the one configured.
        if self.metadata.get("issuer") != self.issuer:
            raise NativeError(f"{self.issuer} does not publish its own metadata")

    def authorization_url(self, redirect_uri: str, scope: str, state: str, nonce: str,
                          challenge: str) -> str:  # fmt: skip
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",  # RFC 7636 §4.2; never plain
        }
        return f"{self.metadata['authorization_endpoint']}?{urlencode(query)}"

    def token(self, **form: str) -> dict[str, Any]:
        """POST /token as a public client (client_id in the form, RFC 6749 §2.3 needs no
        secret from one); the JSON answer, or NativeError with gatepass's error code."""
        response = self.http.post(
            self.metadata["token_endpoint"], data={**form, "client_id": self.client_id}
        )
        body = _json(response)
        if response.status_code != 200:
            raise NativeError(f"/token refused ({body.get('error', response.status_code)})")
        return body

    def revoke(self, token: str) -> None:
        endpoint = self.metadata.get("revocation_endpoint", f"{self.issuer}/revoke")
        data = {"token": token, "token_type_hint": "refresh_token", "client_id": self.client_id}
        self.http.post(endpoint, data=data)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def check_id_token(id_token: str, issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The id token's claims, after the checks that matter here. It came straight from the
    token endpoint over the connection this app opened, so OIDC Core §3.1.3.7 (6) lets the
    app rely on that instead of the signature; iss, aud and the nonce it sent are checked
    (§3.1.3.7 (2), (3), (11)): a code injected from another login fails on the nonce."""
    try:
        payload = id_token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    except (IndexError, ValueError) as exc:
        raise NativeError("the id token is malformed") from exc
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != issuer or client_id not in audiences:
        raise NativeError("the id token is not from this issuer for this app")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise NativeError("the id token's nonce is not the one this app sent")
    return claims


def sign_in(gatepass: Gatepass, scope: str, *, open_browser: bool, wait_seconds: float) -> Tokens:
    """Authorization code + PKCE through the browser, the code received on loopback."""
    verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43..128 characters, 86 here
    challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    with LoopbackReceiver() as receiver:
        url = gatepass.authorization_url(receiver.redirect_uri, scope, state, nonce, challenge)
        say("Open this URL in a browser to sign in:")
        say(url)
        if open_browser:
            webbrowser.open(url)
        say(f"waiting up to {wait_seconds:.0f} s for the redirect to {receiver.redirect_uri}")
        code = receiver.wait_for_code(state, gatepass.issuer, wait_seconds)
        body = gatepass.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=receiver.redirect_uri,  # RFC 6749 §4.1.3: the same as sent
            code_verifier=verifier,
        )
    claims = check_id_token(body.get("id_token", ""), gatepass.issuer, gatepass.client_id, nonce)
    tokens = Tokens.from_response(body)
    say(f"signed in: sub={claims['sub']} scope={body.get('scope', '')!r} "
        f"refresh token: {'yes' if tokens.refresh_token else 'no'}")  # fmt: skip
    return tokens


class NotesApi:
    """The api, called with the in-memory tokens; refreshes them when needed."""

    def __init__(self, gatepass: Gatepass, url: str, tokens: Tokens, margin: float) -> None:
        self.gatepass, self.url, self.tokens, self.margin = (
            gatepass,
            url.rstrip("/"),
            tokens,
            margin,
        )
        self.refreshes = 0

    def get(self, path: str) -> dict[str, Any]:
        left = self.tokens.expires_at - time.monotonic()
        if left <= self.margin:
            self.refresh(f"the access token expires in {max(left, 0):.0f} s")
        response = self._get(path)
        if response.status_code == 401 and "invalid_token" in response.headers.get(
            "www-authenticate", ""
        ):
            self.refresh("the api refused the access token (invalid_token)")
            response = self._get(path)
        if response.status_code != 200:
            raise NativeError(f"GET {path}: {response.status_code} {response.text[:200]}")
        return _json(response)

    def _get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens.access_token}"}
        return self.gatepass.http.get(self.url + path, headers=headers)

    def refresh(self, why: str) -> None:
        if self.tokens.refresh_token is None:
            raise NativeError(f"{why}, and there is no refresh token: sign in again")
        say(f"{why}: refreshing")
        try:
            body = self.gatepass.token(
                grant_type="refresh_token", refresh_token=self.tokens.refresh_token
            )
        except NativeError as exc:
            raise NativeError(f"{exc}: the grant has ended, sign in again") from exc
        self.tokens = Tokens.from_response(body, self.tokens)
        self.refreshes += 1
        say(f"refreshed the access token (refresh {self.refreshes})")


def run(env: Mapping[str, str], args: argparse.Namespace) -> None:
    client_id = env.get("NATIVE_CLIENT_ID")
    if not client_id:
        raise MissingConfiguration("set NATIVE_CLIENT_ID (a public client)")
    issuer = env.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
        gatepass = Gatepass(http, issuer, client_id)
        scope = env.get("NATIVE_SCOPE", DEFAULT_SCOPE)
        tokens = sign_in(gatepass, scope, open_browser=not args.no_browser,
                         wait_seconds=args.timeout)  # fmt: skip
        api = NotesApi(gatepass, env.get("API_URL", "http://127.0.0.1:8030"), tokens,
                       args.refresh_margin)  # fmt: skip
        try:
            for call in range(1, args.calls + 1):
                if call > 1:
                    time.sleep(args.interval)
                me = api.get("/me")
                notes = api.get("/notes")["notes"]
                say(f"call {call}: /me sub={me['sub']} client_id={me['client_id']}; "
                    f"/notes: {len(notes)} notes")  # fmt: skip
        finally:
            if api.tokens.refresh_token:  # RFC 7009: end the grant; nothing is kept anyway
                gatepass.revoke(api.tokens.refresh_token)
                say("signed out: the refresh token is revoked")
        say(f"done: {args.calls} calls, {api.refreshes} refreshes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait to sign in")
    parser.add_argument("--calls", type=int, default=1, help="rounds of api calls")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between rounds")
    parser.add_argument(
        "--refresh-margin",
        type=float,
        default=10.0,
        help="refresh when the access token has at most this many seconds left",
    )
    args = parser.parse_args()
    try:
        run(os.environ, args)
    except MissingConfiguration as exc:
        print(f"native: {exc}", file=sys.stderr)
        return 2
    except (NativeError, RedirectFailed, httpx.HTTPError) as exc:
        print(f"native: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
