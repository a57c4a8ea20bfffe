"""Key generation (RFC 7517/7518/8037), kid as RFC 7638 thumbprint, sealing at rest."""

import base64
import hashlib
import json

import pytest

from gatepass.crypto.keys import (
    ALGORITHMS,
    PRIVATE_MEMBERS,
    RSA_KEY_BITS,
    UnusableKey,
    generate_signing_key,
    import_signing_key,
    import_verification_key,
)
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.sealing import KeySealer, UnsealError

SHAPES = {"RS256": ("RSA", None), "ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


def b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_generated_key_has_the_type_and_curve_of_its_algorithm(alg: str) -> None:
    jwk = generate_signing_key(alg).verification_key().public_jwk()
    kty, crv = SHAPES[alg]
    assert jwk["kty"] == kty
    assert jwk.get("crv") == crv
    assert (jwk["alg"], jwk["use"]) == (alg, "sig")
    if alg == "RS256":
        n = base64.urlsafe_b64decode(jwk["n"] + "==")
        assert len(n) * 8 == RSA_KEY_BITS


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_kid_is_the_rfc7638_thumbprint__rfc7638_3(alg: str) -> None:
    key = generate_signing_key(alg)
    jwk = key.verification_key().public_jwk()
    members = {m: jwk[m] for m in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    assert key.kid == jwk["kid"] == b64url_sha256(canonical)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_public_jwk_never_carries_private_members(alg: str) -> None:
    key = generate_signing_key(alg)
    for jwk in (key.public_jwk(), key.verification_key().public_jwk()):
        assert PRIVATE_MEMBERS.isdisjoint(jwk)
        assert {"kid", "kty", "alg", "use"} <= set(jwk)
    private_d = json.loads(key.private_jwk_json())["d"]
    assert private_d not in repr(key)


def test_two_keys_differ() -> None:
    assert generate_signing_key("ES256").kid != generate_signing_key("ES256").kid


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        generate_signing_key("HS256")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_sealed_key_opens_to_the_same_key_with_the_same_master_key(alg: str) -> None:
    key = generate_signing_key(alg)
    sealer = KeySealer(MasterKey(b"a" * 32))
    opened = sealer.open(sealer.seal(key), kid=key.kid, alg=alg)
    assert opened.kid == key.kid
    assert opened.private_jwk_json() == key.private_jwk_json()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_sealed_key_is_not_parseable_as_a_key(alg: str) -> None:
    key = generate_signing_key(alg)
    sealed = KeySealer(MasterKey(b"a" * 32)).seal(key)
    private = json.loads(key.private_jwk_json())
    for member in ("d", "p", "q"):
        if member in private:
            assert private[member] not in sealed
    assert sealed.startswith("v1.")
    with pytest.raises(json.JSONDecodeError):
        json.loads(sealed)
    with pytest.raises(UnusableKey):
        import_signing_key(sealed.encode(), kid=key.kid, alg=alg)


def test_a_sealed_key_does_not_open_with_another_master_key() -> None:
    key = generate_signing_key("ES256")
    sealed = KeySealer(MasterKey(b"a" * 32)).seal(key)
    with pytest.raises(UnsealError):
        KeySealer(MasterKey(b"b" * 32)).open(sealed, kid=key.kid, alg="ES256")


def test_a_sealed_key_moved_to_another_kid_does_not_open() -> None:
    sealer = KeySealer(MasterKey(b"a" * 32))
    key, other = generate_signing_key("ES256"), generate_signing_key("ES256")
    with pytest.raises(UnsealError):
        sealer.open(sealer.seal(key), kid=other.kid, alg="ES256")
    with pytest.raises(UnsealError):
        sealer.open(sealer.seal(key), kid=key.kid, alg="EdDSA")


def test_a_damaged_sealed_key_does_not_open() -> None:
    sealer = KeySealer(MasterKey(b"a" * 32))
    key = generate_signing_key("EdDSA")
    sealed = sealer.seal(key)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for broken in (flipped, "v1.!!!", "v0." + sealed[3:], ""):
        with pytest.raises(UnsealError):
            sealer.open(broken, kid=key.kid, alg="EdDSA")


def test_a_public_jwk_of_one_type_is_refused_for_another_algorithm() -> None:
    jwk = generate_signing_key("ES256").verification_key().public_jwk()
    with pytest.raises(UnusableKey):
        import_verification_key({**jwk, "alg": "RS256"})
    with pytest.raises(UnusableKey):
        import_verification_key({**jwk, "kid": "not-its-thumbprint"})
    with pytest.raises(UnusableKey):
        import_verification_key({**jwk, "d": "AAAA"})
