"""A small issuer for the token-verifier tests: keys made and tokens signed by gatepass's
own crypto code, discovery and JWKS served by a Starlette app that httpx reaches through
its ASGI transport (the live-server tests in test_jwks.py use a real `gatepass serve`).

`sign_raw` signs any header and payload bytes, so tests can build the tokens an attacker
would (or a buggy issuer), each with a genuine signature where it matters.
"""

import asyncio
import base64
import json
import secrets
from collections.abc import Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.clock import FixedClock
from gatepass.crypto import jwt
from gatepass.crypto.keys import SigningKey, generate_signing_key

ISSUER = "https://id.gatepass.test"
AUDIENCE = "https://orders.example"
START = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def raw_signature(key: SigningKey, signing_input: bytes) -> bytes:
    """The JWS signature (RFC 7518 §3.3, §3.4; RFC 8037 §3.1) of `signing_input`."""
    private: Any = key.jwk.private_key
    if key.alg == "RS256":
        signature: bytes = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signature
    if key.alg == "ES256":
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    eddsa: bytes = private.sign(signing_input)
    return eddsa


def sign_raw(
    header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes, key: SigningKey
) -> str:
    """A compact JWS of exactly these header and payload bytes, signed by `key`."""
    head = header if isinstance(header, bytes) else json_bytes(dict(header))
    body = payload if isinstance(payload, bytes) else json_bytes(dict(payload))
    signing_input = f"{b64(head)}.{b64(body)}".encode()
    return f"{signing_input.decode()}.{b64(raw_signature(key, signing_input))}"


class Issuer:
    """Discovery and JWKS of one issuer, with what a test needs to change and count."""

    def __init__(
        self,
        *algorithms: str,
        clock: FixedClock | None = None,
        keys: list[SigningKey] | None = None,
    ) -> None:
        self.clock = clock or FixedClock(START)
        self.keys = keys or [generate_signing_key(alg) for alg in algorithms or ("ES256",)]
        self.published: list[SigningKey] = list(self.keys)
        self.cache_control: str | None = "public, max-age=300"
        self.jwks_override: Any = None  # a JWKS document to serve instead of the keys
        self.metadata: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks.json"}
        self.jwks_status = 200
        self.gate: asyncio.Event | None = None  # when set: /jwks.json waits for it
        self.requests: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._metadata),
                Route("/jwks.json", self._jwks),
            ]
        )

    @property
    def key(self) -> SigningKey:
        return self.keys[0]

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))

    def fetches(self, path: str = "/jwks.json") -> int:
        return self.requests.count(path)

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": AUDIENCE,
            "exp": now + 600,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "client_id": "client-1",
            "scope": "orders:read profile",
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(self, key: SigningKey | None = None, typ: str = "at+jwt", **changes: Any) -> str:
        """An access token signed as gatepass signs them (crypto/jwt.py)."""
        return jwt.sign(self.claims(**changes), key or self.key, typ)

    def forge(
        self,
        key: SigningKey | None = None,
        *,
        header: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> str:
        """A token with a header of the test's choosing, genuinely signed by `key`."""
        signer = key or self.key
        head = {"alg": signer.alg, "kid": signer.kid, "typ": "at+jwt"}
        if header is not None:
            head = {name: value for name, value in {**head, **header}.items() if value is not None}
        return sign_raw(head, self.claims(**changes), signer)

    async def _metadata(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return JSONResponse(self.metadata)

    async def _jwks(self, request: Request) -> Response:
        if self.gate is not None:
            await self.gate.wait()
        self.requests.append(request.url.path)
        document = self.jwks_override or {"keys": [k.public_jwk() for k in self.published]}
        headers = {} if self.cache_control is None else {"Cache-Control": self.cache_control}
        return JSONResponse(document, status_code=self.jwks_status, headers=headers)
