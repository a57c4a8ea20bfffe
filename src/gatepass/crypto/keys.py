"""Signing keys as JWKs (RFC 7517, 7518, 8037): RS256, ES256 and EdDSA (Ed25519).

A key's `kid` is its RFC 7638 thumbprint, so the id names the key material and
nothing else: two processes that import the same key agree on its id, and a
`kid` cannot point at a different key than the one it was computed from.

RSA keys are 2048 bits. NIST SP 800-57 rates 2048-bit RSA acceptable through
2030, every major OpenID provider publishes 2048-bit keys, and gatepass rotates
keys and signs only short-lived tokens; a 3072-bit key would make each RS256
signature about three times dearer on the token endpoint for a margin that
ES256 and EdDSA (both ~128-bit) already offer to clients that want it.
"""

import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

Algorithm = Literal["RS256", "ES256", "EdDSA"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
RSA_KEY_BITS = 2048
# What each algorithm's key looks like (RFC 7518 §6, RFC 8037 §2).
KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
}
PUBLIC_MEMBERS = frozenset({"kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"})
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_SHA256 = hashes.SHA256()
_ECDSA_SHA256 = ec.ECDSA(_SHA256)
_PKCS1V15 = padding.PKCS1v15()


class UnusableKey(ValueError):
    """A JWK that is malformed, of the wrong type for its algorithm, or not its kid."""


def algorithm(name: str) -> Algorithm:
    """`name` as an Algorithm, or ValueError."""
    for alg in ALGORITHMS:
        if alg == name:
            return alg
    raise ValueError(f"unsupported signing algorithm {name!r}")


class VerificationKey:
    """A public key pinned to one algorithm: it verifies signatures of that algorithm only."""

    def __init__(self, jwk: Key, alg: Algorithm, kid: str) -> None:
        self._jwk = jwk
        self.alg = alg
        self.kid = kid

    @property
    def jwk(self) -> Key:
        """The joserfc key; for crypto/ only."""
        return self._jwk

    def public_jwk(self) -> dict[str, Any]:
        """The JWK for /jwks.json: kid, kty, alg, use="sig", public members and nothing else."""
        members = {k: v for k, v in self._jwk.as_dict(private=False).items() if k in PUBLIC_MEMBERS}
        jwk = {**members, "kid": self.kid, "alg": self.alg, "use": "sig"}
        assert PRIVATE_MEMBERS.isdisjoint(jwk)
        return jwk

    def __repr__(self) -> str:
        return f"VerificationKey(kid={self.kid!r}, alg={self.alg!r})"


class SigningKey(VerificationKey):
    """A private key pinned to one algorithm; its repr never shows private members."""

    def signature(self, signing_input: bytes) -> bytes:
        """The JWS signature of `signing_input` under this key's algorithm (RFC 7518 §3.3,
        §3.4, RFC 8037 §3.1), made by pyca/cryptography with the key joserfc imported."""
        private: Any = self._jwk.private_key
        if self.alg == "ES256":
            r, s = decode_dss_signature(private.sign(signing_input, _ECDSA_SHA256))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # R || S, RFC 7518 §3.4
        if self.alg == "RS256":
            return bytes(private.sign(signing_input, _PKCS1V15, _SHA256))
        return bytes(private.sign(signing_input))

    def verification_key(self) -> VerificationKey:
        public = JWKRegistry.import_key(self.public_jwk())
        return VerificationKey(public, self.alg, self.kid)

    def private_jwk_json(self) -> bytes:
        """The private JWK as JSON bytes: only for sealing (crypto/sealing.py)."""
        data = {**self._jwk.as_dict(private=True), "kid": self.kid, "alg": self.alg}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r})"


def generate_signing_key(alg: str) -> SigningKey:
    """A new key for `alg` from the operating system's CSPRNG (via pyca/cryptography)."""
    pinned = algorithm(alg)
    jwk: Key
    if pinned == "RS256":
        jwk = RSAKey.generate_key(RSA_KEY_BITS, private=True)
    elif pinned == "ES256":
        jwk = ECKey.generate_key("P-256", private=True)
    else:
        jwk = OKPKey.generate_key("Ed25519", private=True)
    return SigningKey(jwk, pinned, jwk.thumbprint())


def import_signing_key(data: bytes, *, kid: str, alg: str) -> SigningKey:
    """A private key from `private_jwk_json`; it must be of `alg`'s type and match `kid`."""
    jwk = _import(data, alg, kid)
    if not jwk.is_private:
        raise UnusableKey("not a private key")
    return SigningKey(jwk, algorithm(alg), kid)


def import_verification_key(public_jwk: Mapping[str, Any] | str) -> VerificationKey:
    """A public key from a JWK (dict or JSON) that carries its `kid` and `alg`."""
    data = json.loads(public_jwk) if isinstance(public_jwk, str) else dict(public_jwk)
    if not isinstance(data, dict) or not PRIVATE_MEMBERS.isdisjoint(data):
        raise UnusableKey("a public JWK must be an object without private members")
    kid, alg = data.get("kid"), data.get("alg")
    if not isinstance(kid, str) or not isinstance(alg, str):
        raise UnusableKey("a public JWK needs kid and alg")
    jwk = _import(json.dumps(data).encode(), alg, kid)
    return VerificationKey(jwk, algorithm(alg), kid)


def _import(data: bytes, alg: str, kid: str) -> Key:
    try:
        pinned = algorithm(alg)
        parsed = json.loads(data)
        if not isinstance(parsed, dict):
            raise UnusableKey("a JWK must be a JSON object")
        jwk = JWKRegistry.import_key(parsed)
    except (JoseError, ValueError, TypeError) as exc:
        raise UnusableKey(f"not a usable JWK: {exc}") from None
    kty, crv = KEY_TYPES[pinned]
    if jwk.key_type != kty or (crv is not None and jwk.get("crv") != crv):
        raise UnusableKey(f"a {jwk.key_type} key cannot be used for {pinned}")
    if jwk.thumbprint() != kid:
        raise UnusableKey("the key does not match its kid")
    return jwk
