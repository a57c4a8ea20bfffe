"""JWS from other issuers (an upstream provider's id tokens), verified against its JWKS.

gatepass's own tokens use three algorithms (crypto/jwt.py); an upstream provider may
sign with any asymmetric JWA algorithm, so this module takes the wider list, with the
same rules (RFC 8725):

- a key is pinned to one algorithm: its JWK `alg`, or, when the JWK names none, the one
  its type and curve imply (RSA -> RS256, P-256 -> ES256, ...); the token's `alg` must
  be that one and among those the caller allows (the provider's advertised algorithms);
- `none` and HMAC never: a provider's client secret is no key we accept signatures by;
- `jku`, `x5u`, `jwk` and `x5c` headers are never read; any `crit` is refused;
- keys marked for encryption, private JWKs and RSA keys under 2048 bits are skipped.

Claims are the caller's business (federation/id_token.py). Every failure is InvalidToken;
`UnknownKey` says the kid is not in the set, so the caller may refetch the JWKS once.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc._rfc7515.model import JWSAlgModel
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import JWSRegistry

from gatepass.errors import InvalidToken

ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_IMPLIED: dict[tuple[object, object], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
}
_IMPLIED |= {("EC", "P-521"): "ES512", ("OKP", "Ed25519"): "EdDSA"}
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048  # RFC 7518 §3.3
MAX_TOKEN_BYTES = 16_384
MAX_HEADER_BYTES = 2048
MAX_KEYS = 100


class UnknownKey(InvalidToken):
    """The token names a key the set does not hold (perhaps a key rotated in since)."""


@dataclass(frozen=True)
class ForeignKey:
    """A provider's public key, pinned to one algorithm."""

    kid: str | None
    alg: str
    jwk: Key


class _PinnedRegistry(JWSRegistry):
    """A JWS registry that knows exactly one algorithm (as in crypto/jwt.py)."""

    def __init__(self, alg: str) -> None:
        super().__init__(algorithms=[alg], strict_check_header=False)
        self._alg = alg

    def get_alg(self, name: str) -> JWSAlgModel:
        if name != self._alg or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not this key's")
        return self.algorithms[name]


_REGISTRIES = {alg: _PinnedRegistry(alg) for alg in ALGORITHMS}


def import_jwks(document: Any) -> list[ForeignKey]:
    """The usable signing keys of a JWK Set (RFC 7517 §5); unusable ones are skipped."""
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        raise ValueError("not a JWK Set")
    keys = []
    for member in members[:MAX_KEYS]:
        key = _import_key(member)
        if key is not None:
            keys.append(key)
    return keys


def _import_key(member: Any) -> ForeignKey | None:
    if not isinstance(member, dict) or not PRIVATE_MEMBERS.isdisjoint(member):
        return None
    if member.get("use", "sig") != "sig":  # RFC 7517 §4.2: an encryption key
        return None
    kid, kty, crv = member.get("kid"), member.get("kty"), member.get("crv")
    alg = member.get("alg", _IMPLIED.get((kty, crv if kty != "RSA" else None)))
    if alg not in ALGORITHMS or (kid is not None and not isinstance(kid, str)):
        return None
    if _KEY_TYPES[alg[:2]] != kty or _CURVES.get(alg, crv) != crv:
        return None
    try:
        jwk = JWKRegistry.import_key(member)
    except (JoseError, ValueError, TypeError):
        return None
    if kty == "RSA" and _rsa_bits(member) < MIN_RSA_BITS:
        return None
    return ForeignKey(kid, alg, jwk)


def _rsa_bits(member: Mapping[str, Any]) -> int:
    modulus = _b64decode(str(member.get("n", "")))
    return len(modulus.lstrip(b"\0")) * 8


def verify(token: str, keys: Iterable[ForeignKey], allowed: Sequence[str]) -> dict[str, Any]:
    """The claims of `token` if its signature verifies under one of `keys` with an allowed,
    pinned algorithm; InvalidToken (UnknownKey when no key matches its kid) otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES or not token.isascii():
        raise InvalidToken("oversized or not text")
    if token.count(".") != 2 or not all(token.split(".")):
        raise InvalidToken("not a compact JWS")
    header = _header(token)
    alg = header.get("alg")
    if alg not in ALGORITHMS or alg not in allowed:  # none, HS256, ... never
        raise InvalidToken(f"algorithm {alg!r} refused")
    if "crit" in header or "b64" in header:  # RFC 7515 §4.1.11
        raise InvalidToken("critical header extensions refused")
    key = _choose(header, keys)
    try:
        signed = jws.deserialize_compact(token, key.jwk, registry=_REGISTRIES[key.alg])
        claims = json.loads(signed.payload or b"")
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(f"signature or payload: {exc!r}") from None
    if not isinstance(claims, dict):
        raise InvalidToken("payload is not an object")
    return claims


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    if len(segment) > MAX_HEADER_BYTES:
        raise InvalidToken("oversized header")
    try:
        header = json.loads(_b64decode(segment))
    except ValueError:
        raise InvalidToken("header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise InvalidToken("header is not an object")
    return header


def _choose(header: Mapping[str, Any], keys: Iterable[ForeignKey]) -> ForeignKey:
    alg, kid = header.get("alg"), header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("kid is not a string")
    # Without a kid, a provider with a single key of that algorithm is still unambiguous.
    candidates = [k for k in keys if (k.kid == kid if kid is not None else k.alg == alg)]
    if kid is None and len(candidates) != 1:
        raise UnknownKey("no kid, and not exactly one key for its algorithm")
    if not candidates:
        raise UnknownKey(f"unknown kid {kid!r}")
    key = candidates[0]
    if key.alg != alg:  # RFC 8725 §3.1: the key decides the algorithm, never the token
        raise InvalidToken(f"key {kid} is for {key.alg}, token says {alg}")
    return key


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
