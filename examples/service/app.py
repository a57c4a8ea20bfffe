"""Machine to machine: a service that calls the notes API on its own behalf, with an
access token from gatepass's client_credentials grant (RFC 6749 §4.4); no user involved.

    service ──Basic client_id:secret──► gatepass /token ──► access token (notes:read notes:write)
    service ──Bearer──► api POST /notes, GET /notes

The token is kept in memory and reused until shortly before it expires; a client
credentials grant has no refresh token (§4.4.3), the service simply asks again. If the
api answers 401 invalid_token (the token was revoked), it asks for a new one, once.

Environment: GATEPASS_ISSUER (default http://127.0.0.1:8000), SERVICE_CLIENT_ID and
SERVICE_CLIENT_SECRET (required), SERVICE_SCOPE (default "notes:read notes:write"),
API_URL (default http://127.0.0.1:8030). Prints what it did as JSON lines; exit 0 on
success, 1 when gatepass or the api refused, 2 when the configuration is missing.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

TIMEOUT_SECONDS = 10.0
# Ask for a new token this long before the current one expires, so a request never
# carries a token that expires on the way (or by the api's clock).
EXPIRY_MARGIN_SECONDS = 30.0


class ServiceError(Exception):
    """gatepass or the api refused; the message says which and why (never a token)."""


class MissingConfiguration(Exception):
    """A required environment variable is not set."""


class ClientCredentials:
    """Access tokens by client_credentials, cached until shortly before they expire."""

    def __init__(
        self,
        http: httpx.Client,
        issuer: str,
        client_id: str,
        client_secret: str,
        scope: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._issuer = issuer.rstrip("/")
        self._auth = (client_id, client_secret)
        self._scope = scope
        self._clock = clock
        self._token_endpoint: str | None = None
        self._token: str | None = None
        self._renew_at = 0.0
        self.requests = 0  # tokens asked of gatepass, for the report

    def token(self) -> str:
        if self._token is None or self._clock() >= self._renew_at:
            self._token, lifetime = self._request()
            margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 2)
            self._renew_at = self._clock() + lifetime - margin
        return self._token

    def forget(self) -> None:
        """Drop the cached token (the api refused it): the next call asks for a new one."""
        self._token = None

    def _request(self) -> tuple[str, float]:
        data = {"grant_type": "client_credentials", "scope": self._scope}
        # RFC 6749 §2.3.1: client_secret_basic, the method every server must support.
        response = self._http.post(self._endpoint(), data=data, auth=self._auth)
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            raise ServiceError(f"gatepass refused the token request: {_error_of(body)}")
        self.requests += 1
        return str(body["access_token"]), float(body.get("expires_in", 60))

    def _endpoint(self) -> str:
        """The token endpoint, from the issuer's metadata (OIDC Discovery), read once."""
        if self._token_endpoint is None:
            response = self._http.get(f"{self._issuer}/.well-known/openid-configuration")
            endpoint = _json(response).get("token_endpoint")
            if response.status_code != 200 or not isinstance(endpoint, str):
                raise ServiceError(f"no token endpoint in {self._issuer}'s metadata")
            self._token_endpoint = endpoint
        return self._token_endpoint


class NotesApi:
    """The api example, called with the service's token; retried once on invalid_token."""

    def __init__(self, http: httpx.Client, url: str, tokens: ClientCredentials) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._tokens = tokens

    def add(self, text: str) -> dict[str, Any]:
        return self._call("POST", "/notes", json={"text": text}, expected=201)

    def list(self) -> dict[str, Any]:
        return self._call("GET", "/notes")

    def _call(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and "invalid_token" in _challenge(response):
            self._tokens.forget()  # revoked or expired early: one new token, one retry
            response = self._send(method, path, **kwargs)
        body = _json(response)
        if response.status_code != expected:
            raise ServiceError(
                f"{method} {path}: {response.status_code} {_error_of(body) or _challenge(response)}"
            )
        return body

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._tokens.token()}"}
        return self._http.request(method, self._url + path, headers=headers, **kwargs)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_of(body: Mapping[str, Any]) -> str:
    return " ".join(str(body[k]) for k in ("error", "error_description") if k in body)


def _challenge(response: httpx.Response) -> str:
    return str(response.headers.get("www-authenticate", ""))


def report(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def run(env: Mapping[str, str], note: str) -> None:
    client_id, secret = env.get("SERVICE_CLIENT_ID"), env.get("SERVICE_CLIENT_SECRET")
    if not client_id or not secret:
        raise MissingConfiguration("set SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET")
    issuer = env.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
    scope = env.get("SERVICE_SCOPE", "notes:read notes:write")
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
        tokens = ClientCredentials(http, issuer, client_id, secret, scope)
        api = NotesApi(http, env.get("API_URL", "http://127.0.0.1:8030"), tokens)
        report("note-created", note=api.add(note))
        report("notes-listed", notes=api.list()["notes"])
        report("done", token_requests=tokens.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--note", default=f"written by the service at {time.ctime()}")
    args = parser.parse_args()
    try:
        run(os.environ, args.note)
    except MissingConfiguration as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 2
    except (ServiceError, httpx.HTTPError) as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
