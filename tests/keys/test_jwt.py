"""JWT sign/verify with pinned algorithms (RFC 8725), checked with an independent library.

Every token gatepass signs verifies with PyJWT against the published JWK; every
hostile token is refused with the one opaque InvalidToken.
"""

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

import jwt as pyjwt
import pytest

from gatepass.crypto import jwt
from gatepass.crypto.keys import ALGORITHMS, SigningKey, generate_signing_key
from gatepass.errors import InvalidToken
from tests.keys.conftest import AUDIENCE, ISSUER

NOW = 1_800_000_000
KEYS = {alg: generate_signing_key(alg) for alg in ALGORITHMS}
PUBLIC = [key.verification_key() for key in KEYS.values()]


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "iat": NOW, "exp": NOW + 300}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def verify(token: str | bytes, *, now: float = NOW, **kwargs: Any) -> dict[str, Any]:
    options = {"issuer": ISSUER, "audience": AUDIENCE, "typ": "at+jwt", "now": now, **kwargs}
    return jwt.verify(token, PUBLIC, **options)


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pem(key: SigningKey, *, private: bool) -> bytes:
    data: bytes = key.jwk.as_pem(private=private)  # type: ignore[attr-defined]
    return data


def pyjwt_sign(key: SigningKey, payload: dict[str, Any], **headers: Any) -> str:
    """A token signed with gatepass's own private key by another library, extra headers and all."""
    header = {"kid": key.kid, "typ": "at+jwt", **headers}
    return pyjwt.encode(payload, pem(key, private=True), algorithm=key.alg, headers=header)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_signed_token_verifies_here_and_with_pyjwt_against_the_jwk(alg: str) -> None:
    key = KEYS[alg]
    token = jwt.sign(claims(), key, "at+jwt")
    assert verify(token) == claims()
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    independent = pyjwt.PyJWK(key.verification_key().public_jwk())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT may warn about a token time in the past
        decoded = pyjwt.decode(
            token,
            independent.key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False},
        )
    assert decoded == claims()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_token_signed_by_pyjwt_with_our_key_verifies_here(alg: str) -> None:
    assert verify(pyjwt_sign(KEYS[alg], claims()))["sub"] == "u1"


def _none_token() -> str:
    header = {"alg": "none", "kid": KEYS["RS256"].kid, "typ": "at+jwt"}
    return f"{b64(header)}.{b64(claims())}."


def _hs256_with_public_key() -> str:
    """The classic confusion: HMAC keyed with the RSA public key's PEM (RFC 8725 §2.1)."""
    key = KEYS["RS256"]
    signing_input = f"{b64({'alg': 'HS256', 'kid': key.kid, 'typ': 'at+jwt'})}.{b64(claims())}"
    mac = hmac.new(pem(key, private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _alg_swapped() -> str:
    """ES256 key's kid with an RS256 header, signed by RS256: the key decides, not the token."""
    rs, es = KEYS["RS256"], KEYS["ES256"]
    return pyjwt.encode(
        claims(), pem(rs, private=True), algorithm="RS256", headers={"kid": es.kid, "typ": "at+jwt"}
    )


def _tampered() -> str:
    head, _, sig = jwt.sign(claims(), KEYS["ES256"], "at+jwt").split(".")
    return f"{head}.{b64(claims(sub='admin'))}.{sig}"


def _stranger(**headers: Any) -> str:
    """Signed with a key gatepass never made; the headers try to smuggle it in."""
    stranger = generate_signing_key("RS256")
    jwk = stranger.verification_key().public_jwk()
    extra = {k: (jwk if v == "JWK" else v) for k, v in headers.items()}
    return pyjwt_sign(stranger, claims(), **extra)


def _stranger_with_our_kid(**headers: Any) -> str:
    stranger = generate_signing_key("RS256")
    jwk = stranger.verification_key().public_jwk()
    extra = {k: (jwk if v == "JWK" else v) for k, v in headers.items()}
    return pyjwt_sign(stranger, claims(), **{**extra, "kid": KEYS["RS256"].kid})


HOSTILE = {
    "alg none is refused": _none_token,
    "alg none with a signature is refused": lambda: _none_token() + "c2ln",
    "HS256 signed with the public key is refused": _hs256_with_public_key,
    "a key used under another algorithm is refused": _alg_swapped,
    "an unknown kid is refused": lambda: _stranger(),
    "a missing kid is refused": lambda: pyjwt.encode(
        claims(), pem(KEYS["ES256"], private=True), algorithm="ES256", headers={"typ": "at+jwt"}
    ),
    "a tampered payload is refused": _tampered,
    "an embedded jwk header is never used": lambda: _stranger(jwk="JWK"),
    "an embedded jwk header with our kid is never used": lambda: _stranger_with_our_kid(jwk="JWK"),
    "a jku header is never followed": lambda: _stranger_with_our_kid(jku="https://evil/jwks"),
    "an x5u header is never followed": lambda: _stranger_with_our_kid(x5u="https://evil/cert"),
    "an unknown crit extension is refused": lambda: pyjwt_sign(
        KEYS["ES256"], claims(), crit=["gp-ext"], **{"gp-ext": 1}
    ),
    "an expired token is refused": lambda: jwt.sign(claims(exp=NOW), KEYS["EdDSA"], "at+jwt"),
    "a token not yet valid is refused": lambda: jwt.sign(
        claims(nbf=NOW + 120), KEYS["EdDSA"], "at+jwt"
    ),
    "a token issued in the future is refused": lambda: jwt.sign(
        claims(iat=NOW + 120), KEYS["EdDSA"], "at+jwt"
    ),
    "a token without exp is refused": lambda: jwt.sign(claims(exp=None), KEYS["EdDSA"], "at+jwt"),
    "a token with a string exp is refused": lambda: jwt.sign(
        claims(exp=str(NOW + 300)), KEYS["EdDSA"], "at+jwt"
    ),
    "a wrong audience is refused": lambda: jwt.sign(claims(aud="other"), KEYS["ES256"], "at+jwt"),
    "a missing audience is refused": lambda: jwt.sign(claims(aud=None), KEYS["ES256"], "at+jwt"),
    "a wrong issuer is refused": lambda: jwt.sign(
        claims(iss="https://evil.example"), KEYS["ES256"], "at+jwt"
    ),
    "an id token is not an access token (typ)": lambda: jwt.sign(claims(), KEYS["RS256"], "JWT"),
    "a missing typ is refused": lambda: pyjwt.encode(
        claims(),
        pem(KEYS["ES256"], private=True),
        algorithm="ES256",
        headers={"kid": KEYS["ES256"].kid, "typ": None},
    ),
    "an oversized token is refused": lambda: jwt.sign(
        claims(pad="x" * 20_000), KEYS["ES256"], "at+jwt"
    ),
    "garbage is refused": lambda: "not a token",
    "two segments are refused": lambda: "eyJhbGciOiJFUzI1NiJ9.e30",
    "empty segments are refused": lambda: "..",
    "a header that is not JSON is refused": lambda: "bm90IGpzb24.e30.c2ln",
    "a header that is a list is refused": lambda: f"{b64(b'[1]')}.e30.c2ln",
    "a payload that is not JSON is refused": lambda: (
        _tampered().split(".")[0] + "." + b64(b"nope") + "." + _tampered().split(".")[2]
    ),
    "non-ASCII bytes are refused": lambda: "é.é.é".encode(),
    "an empty token is refused": lambda: "",
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_tokens_are_refused_with_one_opaque_error__rfc8725(make: Any) -> None:
    with pytest.raises(InvalidToken) as refused:
        verify(make())
    assert str(refused.value) == "invalid token"


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_a_url_header_on_a_genuine_token_is_ignored__rfc8725_3_10(header: str) -> None:
    token = pyjwt_sign(KEYS["ES256"], claims(), **{header: "https://evil.example/keys"})
    assert verify(token)["sub"] == "u1"


def test_leeway_accepts_a_little_clock_skew_and_is_capped_at_60_seconds() -> None:
    token = jwt.sign(claims(exp=NOW), KEYS["ES256"], "at+jwt")
    assert verify(token, leeway=30)["sub"] == "u1"
    with pytest.raises(InvalidToken):
        verify(token, now=NOW + 30, leeway=30)
    with pytest.raises(ValueError, match="leeway"):
        verify(token, leeway=61)


def test_typ_is_compared_as_a_media_type__rfc7515_4_1_9() -> None:
    token = jwt.sign(claims(), KEYS["ES256"], "application/AT+JWT")
    assert verify(token)["sub"] == "u1"


def test_a_list_audience_containing_ours_is_accepted() -> None:
    token = jwt.sign(claims(aud=["other", AUDIENCE]), KEYS["ES256"], "at+jwt")
    assert verify(token)["aud"] == ["other", AUDIENCE]
