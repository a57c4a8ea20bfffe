"""JWT (RFC 7519) signing and verification with the algorithm pinned per key (RFC 8725).

`verify` trusts nothing in the header but the `kid`, and uses it only to choose
among keys it was given:

- the key's own algorithm is the only one accepted (RFC 8725 §3.1): `none`,
  HMAC algorithms and a key used under another algorithm are refused;
- `jku`, `x5u`, `jwk` and `x5c` headers are never read (RFC 8725 §3.10);
- any `crit` header is refused: gatepass implements no JWS extension, and RFC
  7515 §4.1.11 says a recipient MUST reject what it does not understand;
- `typ` must be the expected one (RFC 8725 §3.11), so an id token is no access token;
- `exp`, `iat`, `iss` and `aud` are required, `nbf` honoured, with at most 60 s leeway.

Two narrow openings, both explicit keywords: `audience=None` accepts any present `aud`
(the caller then checks it, e.g. an id_token_hint names its client there), and
`allow_expired=True` skips only the `exp` comparison (OpenID Connect RP-Initiated
Logout §2 accepts an expired id_token_hint).

Every failure is the same opaque `InvalidToken`; its `debug` says why, for logs.
"""

import base64
import binascii
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import pybase64
from joserfc import jws
from joserfc._rfc7515.model import JWSAlgModel
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jws import JWSRegistry

from gatepass.crypto.keys import ALGORITHMS, SigningKey, VerificationKey
from gatepass.errors import InvalidToken

MAX_TOKEN_BYTES = 16_384  # far above any token gatepass issues; refused before any parsing
MAX_HEADER_BYTES = 1024
MAX_LEEWAY_SECONDS = 60


class _PinnedRegistry(JWSRegistry):
    """A JWS registry that knows exactly one algorithm: the key's own."""

    def __init__(self, alg: str) -> None:
        super().__init__(algorithms=[alg], strict_check_header=False)
        self._alg = alg

    def get_alg(self, name: str) -> JWSAlgModel:
        # joserfc would warn that RFC 9864 deprecates "EdDSA" in favour of "Ed25519";
        # gatepass pins "EdDSA" on purpose, as clients today know only that name.
        if name != self._alg or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not this key's")
        return self.algorithms[name]


_REGISTRIES = {alg: _PinnedRegistry(alg) for alg in ALGORITHMS}


def sign(claims: Mapping[str, Any], key: SigningKey, typ: str) -> str:
    """A compact JWS of `claims` under `key`, with `alg`, `kid` and `typ` in the header.

    Assembled here (RFC 7515 §7.1) and signed by the key itself (`SigningKey.signature`):
    joserfc's general path (registry, header checks, key coercion per call) cost as much
    as an ES256 signature, on every token the token endpoint issues. What it makes is
    checked by joserfc (`verify`) and PyJWT in tests/keys/test_jwt.py."""
    header = _header_segment(key.alg, key.kid, typ)
    # orjson: the compact UTF-8 JSON of json.dumps(separators=(",", ":"),
    # ensure_ascii=False) at a fraction of its cost, on every token issued; claims are
    # strings, integers, booleans and lists of strings (it refuses keys other than str).
    payload = orjson.dumps(claims if type(claims) is dict else dict(claims))
    signing_input = header + b"." + _base64url(payload)
    return (signing_input + b"." + _base64url(key.signature(signing_input))).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header_segment(alg: str, kid: str, typ: str) -> bytes:
    """The encoded protected header: the same few for every token a process signs."""
    header = json.dumps({"alg": alg, "kid": kid, "typ": typ}, separators=(",", ":"))
    return _base64url(header.encode())


def _base64url(data: bytes) -> bytes:
    # pybase64 (SIMD): the stdlib's bytes for a quarter of its time, twice for every token.
    return pybase64.b64encode(data, altchars=b"-_").rstrip(b"=")


def verify(
    token: str | bytes,
    keys: Iterable[VerificationKey],
    *,
    issuer: str,
    audience: str | None,
    typ: str,
    now: float,
    leeway: int = 0,
    allow_expired: bool = False,
) -> dict[str, Any]:
    """The claims of `token` if every check passes; otherwise `InvalidToken`."""
    if not 0 <= leeway <= MAX_LEEWAY_SECONDS:
        raise ValueError(f"leeway must be 0..{MAX_LEEWAY_SECONDS} seconds")
    text = _check_shape(token)
    header = _decode_header(text)
    key = _choose_key(header, keys)
    _check_header(header, typ)
    claims = _verified_claims(text, key)
    _check_claims(
        claims,
        issuer=issuer,
        audience=audience,
        now=now,
        leeway=leeway,
        allow_expired=allow_expired,
    )
    return claims


def _check_shape(token: str | bytes) -> str:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken("not ASCII") from None
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("oversized or not text")
    if not token.isascii() or token.count(".") != 2 or not all(token.split(".")):
        raise InvalidToken("not a compact JWS")
    return token


def _decode_header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    if len(segment) > MAX_HEADER_BYTES:
        raise InvalidToken("oversized header")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidToken("header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise InvalidToken("header is not an object")
    return header


def _choose_key(header: Mapping[str, Any], keys: Iterable[VerificationKey]) -> VerificationKey:
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:  # none, HS256, ... never
        raise InvalidToken(f"algorithm {alg!r} refused")
    if not isinstance(kid, str):
        raise InvalidToken("no kid")
    for key in keys:
        if key.kid == kid:
            # RFC 8725 §3.1: the key decides the algorithm, never the token.
            if key.alg != alg:
                raise InvalidToken(f"key {kid} is for {key.alg}, token says {alg}")
            return key
    raise InvalidToken(f"unknown kid {kid!r}")


def _check_header(header: Mapping[str, Any], typ: str) -> None:
    # RFC 7515 §4.1.11: unknown critical extensions MUST be refused; we know none.
    if "crit" in header or "b64" in header:
        raise InvalidToken("critical header extensions refused")
    if not isinstance(header.get("typ"), str) or _media_type(header["typ"]) != _media_type(typ):
        raise InvalidToken(f"typ {header.get('typ')!r} is not {typ!r}")


def _media_type(value: str) -> str:
    # RFC 7515 §4.1.9: "application/" may be omitted, and media types are case-insensitive.
    lowered = value.lower()
    return lowered.removeprefix("application/")


def _verified_claims(token: str, key: VerificationKey) -> dict[str, Any]:
    try:
        signed = jws.deserialize_compact(token, key.jwk, registry=_REGISTRIES[key.alg])
        claims = json.loads(signed.payload or b"")
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(f"signature or payload: {exc!r}") from None
    if not isinstance(claims, dict):
        raise InvalidToken("payload is not an object")
    return claims


def _check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str | None,
    now: float,
    leeway: int,
    allow_expired: bool,
) -> None:
    exp, iat, nbf = _time(claims, "exp"), _time(claims, "iat"), claims.get("nbf")
    if exp is None or iat is None:
        raise InvalidToken("exp and iat are required")
    if now >= exp + leeway and not allow_expired:
        raise InvalidToken("expired")
    if iat > now + leeway:
        raise InvalidToken("issued in the future")
    if nbf is not None and (_time(claims, "nbf") is None or now + leeway < nbf):
        raise InvalidToken("not yet valid")
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not audiences:
        raise InvalidToken("no audience")
    if audience is None:
        if not all(isinstance(a, str) and a for a in audiences):
            raise InvalidToken("malformed audience")
    elif audience not in audiences:
        raise InvalidToken("wrong audience")


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
