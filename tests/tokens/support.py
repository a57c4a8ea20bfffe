"""Keys held in memory for the token cores, and a PyJWT verifier that knows nothing of gatepass."""

import base64
import json
import warnings
from typing import Any

import jwt as pyjwt

from gatepass.crypto.keys import ALGORITHMS, SigningKey, VerificationKey, generate_signing_key

ISSUER = "https://id.example.com"
AUDIENCE = "https://id.example.com/api"
NOW = 1_800_000_000
KEYS: dict[str, SigningKey] = {alg: generate_signing_key(alg) for alg in ALGORITHMS}


class StaticKeys:
    """A KeySource: one active key per algorithm, plus extra published (e.g. retiring) keys."""

    def __init__(self, keys: dict[str, SigningKey], *extra: SigningKey) -> None:
        self.keys = keys
        self.published = [k.verification_key() for k in (*keys.values(), *extra)]

    async def signing_key(self, alg: str) -> SigningKey:
        return self.keys[alg]

    async def verification_keys(self) -> list[VerificationKey]:
        return list(self.published)


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return data


def pem(key: SigningKey, *, private: bool) -> bytes:
    data: bytes = key.jwk.as_pem(private=private)  # type: ignore[union-attr]
    return data


def independent_decode(
    token: str, jwk: dict[str, Any], *, audience: str, issuer: str = ISSUER, at: float = NOW
) -> dict[str, Any]:
    """PyJWT's view of `token`, verified against the public JWK as published."""
    key = pyjwt.PyJWK(jwk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT may warn about the fixed clock's times
        decoded: dict[str, Any] = pyjwt.decode(
            token,
            key.key,
            algorithms=[jwk["alg"]],
            audience=audience,
            issuer=issuer,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    assert decoded["iat"] <= at < decoded["exp"]
    return decoded
