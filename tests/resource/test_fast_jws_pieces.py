"""The shortcuts inside fast_jws.py, each held to the slow way it replaces:

- `der_signature` builds the DER of R || S by table for the usual signature: it returns
  exactly what `cryptography`'s `encode_dss_signature` does, for every shape of R and S;
- `RS256Key.check` compares the DigestInfo `cryptography` recovers with the one it
  encodes: it gives `verify`'s verdict on good, damaged and forged signatures (another
  hash, parameters left out, trailing bytes, short padding, values beyond the modulus);
- `ES256Key.check` hands `cryptography` the SHA-256 of the signing input (`Prehashed`):
  it gives `verify(..., ECDSA(SHA256()))`'s verdict on good, damaged and foreign
  signatures (another key, other data, R or S zero or beyond the group order);
- `_json_object` takes an object from the C scanner without the duplicate-member hook
  when a count of commas proves no member was lost, at any depth: it accepts and refuses
  exactly what the hooked decoder does, duplicates and commas inside strings, nested
  objects and arrays included.
"""

import hashlib
import json
import os
import random
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gatepass.resource.errors import TokenRejected
from gatepass.resource.fast_jws import ES256Key, RS256Key, _json_object, der_signature

SEED = 20261128


def dss(signature: bytes) -> bytes:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return encode_dss_signature(r, s)


EDGE_HALVES = [
    bytes(32),  # zero
    bytes(31) + b"\x01",  # one
    b"\x00" * 5 + os.urandom(27),  # several leading zero octets
    b"\x00\x80" + os.urandom(30),  # a zero octet, then the top bit set
    b"\x00\x7f" + os.urandom(30),
    b"\x7f" + os.urandom(31),  # the top bit clear: 32 octets as they are
    b"\x80" + os.urandom(31),  # the top bit set: a 0x00 in front
    b"\xff" * 32,
    b"\x01" + bytes(31),
]


@pytest.mark.parametrize("r", EDGE_HALVES, ids=range(len(EDGE_HALVES)))
@pytest.mark.parametrize("s", EDGE_HALVES, ids=range(len(EDGE_HALVES)))
def test_der_signature_is_encode_dss_signature_for_every_shape_of_r_and_s(
    r: bytes, s: bytes
) -> None:
    assert der_signature(r + s) == dss(r + s)


def test_der_signature_is_encode_dss_signature_for_random_signatures() -> None:
    rng = random.Random(SEED)
    for _ in range(5000):
        signature = rng.randbytes(64)
        assert der_signature(signature) == dss(signature)


# --- RS256: the recovered DigestInfo ---------------------------------------------------

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = RSA_KEY.public_key()
MODULUS_BYTES = 256
SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
SHA256_INFO_NO_NULL = bytes.fromhex("302f300b06096086480165030402010420")
SHA384_INFO = bytes.fromhex("3041300d060960864801650304020205000430")


def verify_verdict(signature: bytes, data: bytes) -> bool:
    try:
        PUBLIC.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def raw_signature(encoded: bytes) -> bytes:
    """The RSA private operation on an encoded message of our making (RFC 8017 §5.2.1)."""
    numbers = RSA_KEY.private_numbers()
    value = pow(int.from_bytes(encoded, "big"), numbers.d, numbers.public_numbers.n)
    return value.to_bytes(MODULUS_BYTES, "big")


def encoded(t: bytes, *, block: bytes = b"\x01", filler: bytes = b"\xff") -> bytes:
    """00 || block type || PS || 00 || T, PS filling the modulus's length."""
    ps = filler * (MODULUS_BYTES - 3 - len(t))
    return b"\x00" + block + ps + b"\x00" + t


def forged(data: bytes) -> dict[str, tuple[bytes, bool]]:
    """Signatures over `data`, by name: (signature, what RFC 8017 §8.2.2 says of it)."""
    digest = hashlib.sha256(data).digest()
    good = SHA256_INFO + digest
    short_ps = b"\x00\x01" + b"\xff" * 7 + b"\x00" + good
    return {
        "library": (RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA256()), True),
        "ours": (raw_signature(encoded(good)), True),
        "sha384": (RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA384()), False),
        "sha384 info, sha256 digest": (raw_signature(encoded(SHA384_INFO + digest)), False),
        "no NULL parameters": (raw_signature(encoded(SHA256_INFO_NO_NULL + digest)), False),
        "bare digest": (raw_signature(encoded(digest)), False),
        "trailing byte": (raw_signature(encoded(good + b"\x00")), False),
        "digest cut short": (raw_signature(encoded(good[:-1])), False),
        "block type 2": (raw_signature(encoded(good, block=b"\x02")), False),
        "padding not FF": (raw_signature(encoded(good, filler=b"\xfe")), False),
        "seven FF": (raw_signature(short_ps.rjust(MODULUS_BYTES, b"\x00")), False),
        "beyond the modulus": (b"\xff" * MODULUS_BYTES, False),
        "the modulus": (PUBLIC.public_numbers().n.to_bytes(MODULUS_BYTES, "big"), False),
        "zero": (bytes(MODULUS_BYTES), False),
        "one": ((1).to_bytes(MODULUS_BYTES, "big"), False),
        "a byte short": (RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA256())[1:], False),
    }


@pytest.mark.parametrize("name", list(forged(b"")))
def test_rs256_check_gives_verify_s_verdict_on_each_forgery(name: str) -> None:
    data = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0"
    signature, expected = forged(data)[name]
    assert RS256Key("k", PUBLIC).check(signature, data) is expected
    assert verify_verdict(signature, data) is expected
    # The same signature over other data: refused by both.
    assert RS256Key("k", PUBLIC).check(signature, data + b"x") is False


def test_rs256_check_gives_verify_s_verdict_on_damaged_signatures() -> None:
    rng = random.Random(SEED)
    key = RS256Key("k", PUBLIC)
    accepted = 0
    for n in range(300):
        data = rng.randbytes(rng.randrange(1, 900))
        signature = bytearray(RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        if n % 3:  # two in three damaged: a bit flipped, or a byte replaced
            index = rng.randrange(len(signature))
            signature[index] ^= 1 << rng.randrange(8) if n % 3 == 1 else rng.randrange(1, 256)
        verdict = key.check(bytes(signature), data)
        assert verdict is verify_verdict(bytes(signature), data)
        accepted += verdict
    assert accepted == 100


# --- ES256: the digest handed in -------------------------------------------------------

EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_OTHER = ec.generate_private_key(ec.SECP256R1())
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def jws_es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def es256_verdict(signature: bytes, data: bytes) -> bool:
    """`cryptography` hashing the data itself."""
    try:
        EC_KEY.public_key().verify(dss(signature), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def test_es256_check_gives_verify_s_verdict_on_good_damaged_and_foreign_signatures() -> None:
    rng = random.Random(SEED)
    key = ES256Key("k", EC_KEY.public_key())
    verdicts = []
    for n in range(300):
        data = rng.randbytes(rng.randrange(0, 900))
        signature = bytearray(jws_es256(EC_OTHER if n % 5 == 4 else EC_KEY, data))
        if n % 5 in (1, 2):  # damaged: a bit flipped, or a byte replaced
            index = rng.randrange(len(signature))
            signature[index] ^= 1 << rng.randrange(8) if n % 5 == 1 else rng.randrange(1, 256)
        if n % 5 == 3:  # a good signature, over other data
            data += b"."
        verdict = key.check(bytes(signature), data)
        assert verdict is es256_verdict(bytes(signature), data)
        verdicts.append(verdict)
    assert verdicts.count(True) == 60  # the undamaged ones of the right key, no more


def test_es256_check_accepts_signatures_whose_r_or_s_starts_with_a_zero_octet() -> None:
    """The one signature in 128 that takes der_signature's long way (a shorter INTEGER)
    verifies like the others, and fails like them when damaged."""
    key, found = ES256Key("k", EC_KEY.public_key()), {"r": 0, "s": 0}
    for n in range(20_000):
        data = n.to_bytes(4, "big")
        signature = jws_es256(EC_KEY, data)
        which = "r" if signature[0] == 0 else "s" if signature[32] == 0 else None
        if which is None or found[which] >= 2:
            continue
        found[which] += 1
        assert key.check(signature, data) is True
        assert key.check(signature, data + b".") is False
        if min(found.values()) >= 2:
            break
    assert found == {"r": 2, "s": 2}


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (P256_ORDER, 1), (1, P256_ORDER), (P256_ORDER + 1, 1), (2**256 - 1, 1)],
    ids=["r zero", "s zero", "r the order", "s the order", "r beyond", "r all ones"],
)
def test_es256_check_refuses_r_and_s_outside_the_group_as_verify_does(r: int, s: int) -> None:
    data = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0"
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert ES256Key("k", EC_KEY.public_key()).check(signature, data) is False
    assert es256_verdict(signature, data) is False


# --- JSON objects ----------------------------------------------------------------------


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate member")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def reference(data: bytes) -> dict[str, Any] | None:
    """The slow way: json.loads with a duplicate check on every object, UTF-8 only."""
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except (ValueError, RecursionError):
        return None
    return value if type(value) is dict else None


def ours(data: bytes) -> dict[str, Any] | None:
    try:
        return _json_object(data, "payload")
    except TokenRejected:
        return None


OBJECTS: dict[str, bytes] = {
    "flat": b'{"sub":"u","exp":1,"scope":"a b"}',
    "flat, a duplicate of the same value": b'{"sub":"u","exp":1,"sub":"u"}',
    "flat, a duplicate of another value": b'{"sub":"u","exp":1,"sub":"admin"}',
    "a comma in a string": b'{"sub":"a,b","exp":1}',
    "a comma in a string and a duplicate": b'{"sub":"a,b","sub":"c"}',
    "two commas in strings, two duplicates": b'{"a":",","b":",","a":1,"b":2}',
    "a comma in a key and a duplicate": b'{"a,b":1,"a,b":2}',
    "an escaped quote and a comma": b'{"sub":"a\\",\\"b","exp":1}',
    "an escaped quote, a comma and a duplicate": b'{"sub":"a\\",","sub":1}',
    "a brace in a string": b'{"sub":"{","exp":1}',
    "a brace in a string and a duplicate": b'{"sub":"{","sub":1}',
    "a bracket in a string and a duplicate": b'{"sub":"[","sub":1}',
    "nested, no duplicate": b'{"a":{"b":1,"c":2},"d":[1,2]}',
    "nested, a duplicate inside": b'{"a":{"b":1,"b":2},"d":1}',
    "nested in an array, a duplicate inside": b'{"a":[{"b":1,"b":2}]}',
    "an empty object": b"{}",
    "one member": b'{"a":1}',
    "a trailing comma": b'{"a":1,}',
    "white space around": b' {"a":1} ',
    "white space inside": b'{ "a" : 1 , "b" : 2 }',
    "white space inside, a duplicate": b'{ "a" : 1 , "a" : 2 }',
    "extra data": b'{"a":1}{"b":2}',
    "NaN": b'{"a":NaN}',
    "Infinity and a comma": b'{"a":1,"b":-Infinity}',
    "non-ASCII": '{"name":"Zoë ✓, 中","a":1}'.encode(),
    "not UTF-8": b'{"a":"\xff"}',
    "an array": b"[1,2]",
    "a string": b'"{"',
    "unterminated": b'{"a":1',
    "an unescaped control character": b'{"a":"\n"}',
    # Numbers orjson (the fast way) reads otherwise than the stdlib: exactness kept.
    "an integer beyond 64 bits": b'{"exp":1000000000000000000000000000000,"a":1}',
    "2**63 and -2**63-1": b'{"a":9223372036854775808,"b":-9223372036854775809}',
    "2**64": b'{"a":18446744073709551616}',
    "a big integer nested once": b'{"a":[100000000000000000000000]}',
    "a float": b'{"a":2.5,"b":1e400}',
    "a lone surrogate escape": b'{"a":"\\ud800","b":1}',
    "a byte-order mark": b'\xef\xbb\xbf{"a":1}',
}


@pytest.mark.parametrize("data", OBJECTS.values(), ids=OBJECTS.keys())
def test_json_objects_are_read_as_the_hooked_decoder_reads_them(data: bytes) -> None:
    # repr, not ==: 10**30 == 1e30 is False, but 1 == 1.0 and 1 == True are True.
    assert repr(ours(data)) == repr(reference(data))


def test_every_duplicate_in_the_table_is_refused() -> None:
    duplicates = [name for name in OBJECTS if "duplicate" in name and "no duplicate" not in name]
    assert len(duplicates) >= 10
    assert [name for name in duplicates if ours(OBJECTS[name]) is not None] == []


def random_object(rng: random.Random) -> bytes:
    """A flat object, mostly, whose strings often hold commas, braces or escapes, and
    whose names often repeat."""
    names = ["a", "b", "c", "d,", "e"]
    values = ['"x"', '","', '",,"', '"\\","', '"{"', '"["', "1", "2.5", "null", "true", '"é,"']
    members = [f'"{rng.choice(names)}":{rng.choice(values)}' for _ in range(rng.randrange(0, 7))]
    if rng.random() < 0.1:
        members.append(f'"n":{{"{rng.choice(names)}":1,"{rng.choice(names)}":2}}')
    return ("{" + ",".join(members) + "}").encode()


def test_random_objects_are_read_as_the_hooked_decoder_reads_them() -> None:
    rng = random.Random(SEED)
    verdicts = {"accepted": 0, "refused": 0}
    for _ in range(5000):
        data = random_object(rng)
        mine = ours(data)
        assert mine == reference(data), data
        verdicts["accepted" if mine is not None else "refused"] += 1
    assert min(verdicts.values()) > 1000  # both kinds, many times


def random_nested_object(rng: random.Random, depth: int = 0) -> bytes:
    """An object whose members are often objects or arrays (of objects), a few levels
    deep, with names that repeat at every level: the count must see through nesting."""
    names = ["a", "b", "c,"]

    def value(level: int) -> str:
        roll = rng.random()
        if level < 3 and roll < 0.3:
            return random_nested_object(rng, level + 1).decode()
        if level < 3 and roll < 0.5:
            items = [value(level + 1) for _ in range(rng.randrange(0, 3))]
            return "[" + ",".join(items) + "]"
        return rng.choice(['"x"', '","', "1", "null", '"{"', '"]"'])

    members = [f'"{rng.choice(names)}":{value(depth)}' for _ in range(rng.randrange(0, 4))]
    return ("{" + ",".join(members) + "}").encode()


def test_random_nested_objects_are_read_as_the_hooked_decoder_reads_them() -> None:
    rng = random.Random(SEED + 1)
    verdicts = {"accepted": 0, "refused": 0}
    nested_accepted = 0
    for _ in range(5000):
        data = random_nested_object(rng)
        mine = ours(data)
        assert mine == reference(data), data
        verdicts["accepted" if mine is not None else "refused"] += 1
        nested_accepted += mine is not None and any(type(v) in (dict, list) for v in mine.values())
    assert min(verdicts.values()) > 1000
    assert nested_accepted > 300  # nesting that passes, not only nesting that is refused
