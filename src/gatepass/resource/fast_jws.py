"""Compact JWS (RFC 7515 §7.1) verification straight over pyca/cryptography.

    token ─► read(token)          size cap, ASCII, three non-empty segments; the header
              │                    (unless seen before): strict base64url, a UTF-8 JSON
              │                    object, no duplicate member, alg ∈ {RS256, ES256,
              │                    EdDSA}, kid, typ as expected, no crit / b64 / jku /
              │                    x5u / jwk / x5c
              ▼
           Signed(alg, kid, ...) ─► the caller finds the key by kid
              ▼
           verified_payload(signed, key)   the key's own alg only (RFC 8725 §3.1); the
                                           signature (strict base64url: the URL-safe
                                           alphabet, no padding, a canonical last
                                           character); then the payload, likewise
                                           decoded: a JSON object, no duplicate member,
                                           no NaN or Infinity

    Reader.open(token, key_of)        both steps in one frame, the key found by kid in
                                      between: what the verifier runs per token (a
                                      frame, a NamedTuple and their lookups are a tenth
                                      of what Python adds to an RS256 check)

Why not joserfc's `deserialize_compact`: a resource server verifies every request, and
the general path (registry lookups, header objects, key coercion per call) costs as much
as the signature itself, twice as much for RS256 (docs/tokens.md). Here each published
key is turned into a `cryptography` object once, headers repeat (one per key), so a
parsed header is remembered by its segment, and per token only the payload and
signature are decoded. `test_fast_jws_differential.py`
shows on a generated corpus that this path accepts exactly what joserfc accepts with the
same pinned key, except where gatepass's policy is deliberately stricter (duplicate
members, key-carrying headers, `crit`, non-UTF-8 JSON, NaN, oversize tokens);
`test_fast_open_differential.py` that `open` gives the two-step verdict on every token.

Every refusal is `TokenRejected` with the reason in `reason`; nothing else escapes.
"""

import binascii
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final, NamedTuple

import orjson
import pybase64
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from nacl.bindings import crypto_sign_open as _sodium_open
from nacl.exceptions import BadSignatureError

from gatepass.resource.errors import TokenRejected

ALGORITHMS: Final = ("RS256", "ES256", "EdDSA")
# Far above any token gatepass issues (under 1.5 KB with RSA-4096); the bearer header cap.
MAX_TOKEN_CHARS: Final = 8192
MAX_HEADER_CHARS: Final = 512  # joserfc's limit too; gatepass's headers are under 120
MAX_KID_CHARS: Final = 256
# RFC 7515 §4.1.11: a recipient MUST refuse a `crit` extension it does not understand, and
# gatepass understands none (`b64`, RFC 7797, only means anything under `crit`). RFC 8725
# §3.10: keys named or carried by the token itself are never trusted, so a token that
# carries them is refused rather than half-read.
REFUSED_HEADERS: Final = frozenset({"crit", "b64", "jku", "x5u", "jwk", "x5c"})

# base64url to base64 for binascii; the standard alphabet's own "+" and "/", and padding,
# to a character that is in neither, so that strict decoding refuses them.
_URL_SAFE: Final = b"-_"
_PLUS: Final = 43  # b"+", b"/", b"=", b"," as ints: `in` on bytes is then one memchr
_SLASH: Final = 47
_PAD: Final = 61
_COMMA: Final = 44
_b64decode: Final = pybase64.b64decode
_loads: Final = orjson.loads
_JSONDecodeError: Final = orjson.JSONDecodeError
_SCALAR_TYPES: Final = frozenset({str, int, bool, type(None)})
_PADDING: Final = (b"", b"", b"==", b"=")
# RFC 4648 §3.5: the bits a last character carries beyond the data must be zero, so each
# byte string has exactly one encoding (joserfc refuses the others too). By length mod 4,
# the last characters allowed, as a table: _LAST_OK[len & 3][last] is 1 or 0.
_CANONICAL_LAST: Final[tuple[bytes, ...]] = (
    bytes(range(256)),  # a length of 4n: any (the decoder checks the alphabet)
    b"",  # 4n+1: no encoding at all
    b"AQgw",  # 4n+2: one byte in the last group, four bits to spare
    b"AEIMQUYcgkosw048",  # 4n+3: two bytes, two bits to spare
)
_LAST_OK: Final = tuple(bytes(c in last for c in range(256)) for last in _CANONICAL_LAST)
_HEADER_CACHE_SIZE: Final = 256
_DOT: Final = ord(".")


class Signed(NamedTuple):
    """A compact JWS whose shape and header passed; its signature is not checked yet."""

    alg: str
    kid: str
    signing_input: bytes  # ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    payload: bytes  # still base64url
    signature: bytes  # still base64url


class VerifyingKey(ABC):
    """A public key pinned to one algorithm (RFC 8725 §3.1), built once per published key."""

    __slots__ = ("alg", "kid")

    def __init__(self, kid: str, alg: str) -> None:
        self.kid = kid
        self.alg = alg

    @abstractmethod
    def check(self, signature: bytes, signing_input: bytes) -> bool:
        """Whether `signature` (the JWS form) signs `signing_input` under this key."""

    @abstractmethod
    def public_key(self) -> object:
        """The `cryptography` public key."""

    def __eq__(self, other: object) -> bool:
        """Same kid, same algorithm, same key material."""
        return (
            isinstance(other, VerifyingKey)
            and (other.kid, other.alg) == (self.kid, self.alg)
            and other.public_key() == self.public_key()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kid={self.kid!r})"


# kid -> the published key of that kid if at hand and fresh, else None: the `get` of
# JwksCache.by_kid (a call into C, no Python frame) while the set is fresh.
KeyOf = Callable[[str], VerifyingKey | None]

_SHA256: Final = hashes.SHA256()
_sha256: Final = hashlib.sha256
# The digest handed in (hashlib), not the data: see ES256Key.
_ECDSA_PREHASHED_SHA256: Final = ec.ECDSA(Prehashed(_SHA256))
_PKCS1V15: Final = padding.PKCS1v15()


# RFC 8017 §9.2, note 1: the DER of the DigestInfo for SHA-256, up to the hash value.
_SHA256_DIGEST_INFO: Final = bytes.fromhex("3031300d060960864801650304020105000420")


class RS256Key(VerifyingKey):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).

    RFC 8017 §8.2.2 as it is written: `cryptography` applies the public key and checks the
    padding (00 01, at least eight FF, 00; `recover_data_from_signature` with no
    algorithm); the DigestInfo it returns must then equal, byte for byte, the one
    EMSA-PKCS1-v1_5 encodes for the signing input. The padding's length follows from
    the key and the DigestInfo, so that is the whole encoded message compared: no other
    DigestInfo (another hash, parameters left out, trailing bytes) passes. The same
    verdict as `verify(..., PKCS1v15(), SHA256())` for 1.5-2 µs less a check (of 19-21):
    that call has OpenSSL set up the digest and encode the DigestInfo every time.
    test_fast_jws_pieces.py holds the two to each other on forged and damaged signatures.
    """

    __slots__ = ("_key", "_length", "_recover")

    def __init__(self, kid: str, key: rsa.RSAPublicKey) -> None:
        super().__init__(kid, "RS256")
        self._key = key
        self._length = (key.key_size + 7) // 8
        self._recover = key.recover_data_from_signature

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key

    def check(self, signature: bytes, signing_input: bytes) -> bool:
        # RFC 8017 §8.2.2: a signature is exactly as long as the modulus.
        if len(signature) != self._length:
            return False
        try:
            recovered = self._recover(signature, _PKCS1V15, None)
        except InvalidSignature:
            return False
        return recovered == _SHA256_DIGEST_INFO + _sha256(signing_input).digest()


class ES256Key(VerifyingKey):
    """ECDSA P-256 with SHA-256 (RFC 7518 §3.4): the JWS signature is R || S, 32 bytes each,
    which `cryptography` takes as DER.

    The signing input is hashed by hashlib and the digest handed in (`Prehashed`): ECDSA
    verifies the SHA-256 of the data either way (FIPS 186-5 §6.4.2 step 2), but
    `cryptography` hashing it itself has OpenSSL look up and set up SHA-256 per call,
    about 1 µs of a check here. test_fast_jws_pieces.py holds the two ways to each other.
    """

    __slots__ = ("_key",)

    def __init__(self, kid: str, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 key")
        super().__init__(kid, "ES256")
        self._key = key

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key

    def check(self, signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:  # RFC 7518 §3.4: the 64-octet sequence R || S
            return False
        r0, s0 = signature[0], signature[32]
        if r0 and s0:  # der_signature's usual case, inline: a frame is 0.5 µs of a check
            head = _DER_HEAD[(r0 >> 7) | (s0 >> 6 & 2)]
            der = b"".join((head, signature[:32], _DER_S[s0 >> 7], signature[32:]))
        else:
            der = der_signature(signature)
        try:
            self._key.verify(der, _sha256(signing_input).digest(), _ECDSA_PREHASHED_SHA256)
        except InvalidSignature:
            return False
        return True


# DER (X.690 §8.3) of SEQUENCE { INTEGER r, INTEGER s } when neither starts with a zero
# octet: each INTEGER is its 32 octets, after a 0x00 when the first has its top bit set
# (else it would read as negative). Indexed by those top bits: r's, then s's times two.
_DER_HEAD: Final = (b"0D\x02 ", b"0E\x02!\x00", b"0E\x02 ", b"0F\x02!\x00")
_DER_S: Final = (b"\x02 ", b"\x02!\x00")


def der_signature(signature: bytes) -> bytes:
    """The DER form `cryptography` takes of a 64-octet JWS ECDSA signature R || S: what
    `encode_dss_signature` returns, for a third of its cost in the common case."""
    r0, s0 = signature[0], signature[32]
    if r0 and s0:  # else a shorter, minimal INTEGER (1 in 128 signatures): the long way
        head = _DER_HEAD[(r0 >> 7) | (s0 >> 6 & 2)]
        return b"".join((head, signature[:32], _DER_S[s0 >> 7], signature[32:]))
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return encode_dss_signature(r, s)


class EdDSAKey(VerifyingKey):
    """EdDSA over Ed25519 (RFC 8037 §3.1). `cryptography` imports the key; libsodium
    (PyNaCl) checks the signatures: twice as fast as the OpenSSL build that `cryptography`
    ships (docs/resource.md), and no laxer: cofactorless like it, and it also refuses
    small-order keys and R points, which RFC 8032 leaves open."""

    __slots__ = ("_key", "_raw")

    def __init__(self, kid: str, key: Ed25519PublicKey) -> None:
        super().__init__(kid, "EdDSA")
        self._key = key
        self._raw = key.public_bytes_raw()

    def public_key(self) -> Ed25519PublicKey:
        return self._key

    def check(self, signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:  # RFC 8032 §5.1.6: 64 octets
            return False
        try:  # the "signed message" form: signature, then the message
            _sodium_open(signature + signing_input, self._raw)
        except BadSignatureError:
            return False
        return True


class Reader:
    """Reads compact JWSs of one `typ`, remembering the headers it has accepted."""

    def __init__(self, typ: str) -> None:
        self._typ = _media_type(typ)
        self._headers: dict[bytes, tuple[str, str]] = {}

    def read(self, token: str) -> Signed:
        """The token's parts if its shape and header are acceptable; else TokenRejected.
        The payload and signature segments are checked as they are decoded."""
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("oversized token")
        if not token.isascii():  # a flag of the str: no scan
            raise TokenRejected("not ASCII")
        # (r)partition: memchr, no argument parsing, and the signing input comes out whole.
        signing_input, _, signature = token.encode().rpartition(b".")
        header, dot, payload = signing_input.partition(b".")
        if not dot or _DOT in payload:  # an int: `b"." in` raises a TypeError inside
            raise TokenRejected("not three segments")
        if not (header and payload and signature):
            raise TokenRejected("an empty segment")
        alg, kid = self._headers.get(header) or self._header(header)
        # What Signed(...) does, without its Python frame.
        return tuple.__new__(Signed, (alg, kid, signing_input, payload, signature))

    def open(self, token: str, key_of: KeyOf) -> dict[str, Any] | None:
        """`read` then `verified_payload` in one frame, for the verifier's hot path: the
        payload object if `key_of(kid)` holds the token's key and that key signed it;
        None if it holds no key for the kid (the caller fetches it, then uses `read` and
        `verified_payload`); else TokenRejected. The checks are those two functions', in
        their order; test_fast_open_differential.py holds the two ways to each other."""
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("oversized token")
        if not token.isascii():
            raise TokenRejected("not ASCII")
        whole = token.encode()
        signing_input, _, signature = whole.rpartition(b".")
        header, dot, payload = signing_input.partition(b".")
        if not dot or _DOT in payload:
            raise TokenRejected("not three segments")
        if not (header and payload and signature):
            raise TokenRejected("an empty segment")
        alg, kid = self._headers.get(header) or self._header(header)
        key = key_of(kid)
        if key is None:
            return None
        if alg != key.alg or kid != key.kid:  # RFC 8725 §3.1: the key decides the algorithm
            raise TokenRejected(f"key {key.kid} is for {key.alg}, the token says {alg}")
        rest, last = len(signature) & 3, len(payload) & 3
        if not (_LAST_OK[rest][signature[-1]] and _LAST_OK[last][payload[-1]]):
            raise TokenRejected("a segment is not strict base64url")
        # pybase64 takes "-_" for "+/" but, like the stdlib, "+/" too: refuse them first,
        # over the whole token at once (an accepted header holds none of them).
        if _PLUS in whole or _SLASH in whole or _PAD in whole:
            raise TokenRejected("a segment is not base64url")
        try:
            data = _b64decode(signature + _PADDING[rest], _URL_SAFE, True)
            if not key.check(data, signing_input):
                raise TokenRejected("bad signature")
            data = _b64decode(payload + _PADDING[last], _URL_SAFE, True)
        except binascii.Error:
            raise TokenRejected("a segment is not base64url") from None
        # _json_object's first way, inline.
        try:
            value = _loads(data)
            if (
                type(value) is dict
                and len(value) == data.count(_COMMA) + 1
                and _SCALAR_TYPES.issuperset(map(type, value.values()))
            ):
                return value
        except _JSONDecodeError:
            pass  # the full way below decides, and words the refusal
        return _json_object(data, "payload")

    def _header(self, segment: bytes) -> tuple[str, str]:
        if len(segment) > MAX_HEADER_CHARS:
            raise TokenRejected("oversized header")
        header = _json_object(decode(segment), "header")
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if alg not in ALGORITHMS:  # none, HS256 (with a public key as secret), ... never
            raise TokenRejected(f"algorithm {str(alg)[:20]!r} refused")
        if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_CHARS:
            raise TokenRejected("no usable kid")
        # RFC 8725 §3.11 / RFC 9068 §4: the expected typ, so an id token is no access token.
        if not isinstance(typ, str) or _media_type(typ) != self._typ:
            raise TokenRejected(f"typ {str(typ)[:20]!r} refused")
        refused = REFUSED_HEADERS.intersection(header)
        if refused:
            raise TokenRejected(f"header {sorted(refused)[0]!r} refused")
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()  # a flood of distinct headers costs parsing, not memory
        self._headers[segment] = (alg, kid)
        return alg, kid


def verified_payload(signed: Signed, key: VerifyingKey) -> dict[str, Any]:
    """The payload object of `signed` if `key` signed it; TokenRejected otherwise."""
    alg, kid, signing_input, payload, signature = signed
    # RFC 8725 §3.1: the key decides the algorithm, never the token.
    if alg != key.alg or kid != key.kid:
        raise TokenRejected(f"key {key.kid} is for {key.alg}, the token says {alg}")
    # decode(signature), decode(payload): inline, two frames less per token.
    data = decode(signature)
    if not key.check(data, signing_input):
        raise TokenRejected("bad signature")
    return _json_object(decode(payload), "payload")


def decode(segment: bytes) -> bytes:
    """Strict base64url without padding (RFC 7515 §2): the URL-safe alphabet only, no
    padding, a possible length, and a canonical last character."""
    # A length of 4n+1 is no encoding at all; a last character with bits set beyond the
    # data makes another string for the same bytes (RFC 4648 §3.5).
    rest = len(segment) & 3
    if not _LAST_OK[rest][segment[-1]]:
        raise TokenRejected("a segment is not strict base64url")
    # pybase64 (SIMD) takes "-_" for "+/" but, like the stdlib, "+/" too; with `validate`
    # it refuses anything else outside the alphabet, and misplaced padding.
    if _PLUS in segment or _SLASH in segment or _PAD in segment:
        raise TokenRejected("a segment is not base64url")
    try:
        return _b64decode(segment + _PADDING[rest], _URL_SAFE, True)
    except binascii.Error:
        raise TokenRejected("a segment is not base64url") from None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 7515 §5.2 step 4 / RFC 7519 §4: a JOSE header or claims set with duplicate
    # member names is refused: two readers could otherwise see two different values.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member")
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 §6)")


_DECODER: Final = json.JSONDecoder(object_pairs_hook=_unique_members, parse_constant=_no_constant)
_decode_json: Final[Callable[[str], Any]] = _DECODER.decode
_scan_once: Final[Callable[[str, int], tuple[Any, int]]] = _DECODER.scan_once  # type: ignore[attr-defined]
# Without the hook: the C scanner builds the dict itself, a third faster (flat objects).
_scan_flat: Final[Callable[[str, int], tuple[Any, int]]] = json.JSONDecoder(
    parse_constant=_no_constant
).scan_once  # type: ignore[attr-defined]


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        # RFC 7515 §5.2 steps 3 and 8: UTF-8, nothing else (no BOM, no UTF-16).
        # orjson first (a strict RFC 8259 parser in native code, several times the stdlib's
        # speed), for the usual claims set: a flat object of strings, integers, booleans
        # and nulls. It keeps the last of duplicate names, so the comma count below holds
        # for it too. It reads an integer beyond 64 bits as a float, so an object holding
        # a float (or an array, or an object) goes the stdlib's way, as does anything
        # orjson refuses (a lone surrogate escape, say): there the stdlib decides as before.
        try:
            value = _loads(data)
            if (
                type(value) is dict
                and len(value) == data.count(_COMMA) + 1
                and _SCALAR_TYPES.issuperset(map(type, value.values()))
            ):
                return value
        except _JSONDecodeError:
            pass
        text = data.decode("utf-8")
        # Every member of an object after its first follows a comma of its own, so the
        # text has at least as many commas as the top object has members, less one, and
        # more if a name repeats (the dict keeps one), if a nested object or array has
        # two entries (where any nested duplicate would be), or if a string holds one.
        # So when the dict the scanner built without the hook has exactly the commas plus
        # one members, nothing was lost to a duplicate, at any depth; else the hook decides.
        try:
            value, end = _scan_flat(text, 0)
        except StopIteration:  # leading white space, or no JSON: the full decoder decides
            end = -1
        if end == len(text) and type(value) is dict and len(value) == text.count(",") + 1:
            return value
        try:  # the C scanner straight away: JSONDecoder.decode's own steps cost as much
            value, end = _scan_once(text, 0)
        except StopIteration:  # leading white space, or no JSON: the full decoder decides
            value, end = _decode_json(text), len(text)
        if end != len(text):  # trailing white space, or extra data: likewise
            value = _decode_json(text)
    except (ValueError, RecursionError) as exc:
        raise TokenRejected(f"{what} is not a JSON object: {str(exc)[:60]}") from None
    if type(value) is not dict:
        raise TokenRejected(f"{what} is not a JSON object")
    return value


def _media_type(value: str) -> str:
    # RFC 7515 §4.1.9: "application/" may be omitted, and media types are case-insensitive.
    return value.lower().removeprefix("application/")
