"""fast_jws against joserfc and PyJWT: on a generated corpus of valid, tampered and hostile
tokens, the lean path accepts exactly what the libraries accept with the same pinned key.

    corpus (seeded) ─► ours:     Reader("at+jwt").read ─► key by kid ─► verified_payload
                    ─► joserfc:  extract_compact ─► key by kid ─► deserialize_compact with a
                                 registry of that key's algorithm only ─► typ ─► JSON object
                    ─► PyJWT:    the same with decode_complete(algorithms=[the key's])

Every token in the corpus is one of:

- AGREE: ours and joserfc give the same verdict, and for accepted tokens the same claims.
  PyJWT joins on the tokens whose only damage is to bytes (valid, flipped, truncated...):
  its base64 decoder skips characters outside the alphabet, so on text-level damage it is
  laxer than both, and no reference for that.
- POLICY: gatepass refuses what a library may accept on purpose (key-carrying headers,
  `crit`, duplicate members, JSON that is not UTF-8 or has NaN, oversize tokens). The
  test asserts our refusal, and records which of these joserfc accepts, so the
  difference stays visible.

The seed fixes the corpus's shape (claims, mutations, positions); the keys are made anew
each run, and ECDSA signatures are randomised, so each run checks fresh bytes too.
"""

import base64
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from joserfc import jws
from joserfc._rfc7515.model import JWSAlgModel
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import JWKRegistry, Key

from gatepass.crypto.keys import SigningKey, generate_signing_key
from gatepass.resource.errors import TokenRejected
from gatepass.resource.fast_jws import MAX_TOKEN_CHARS, Reader, VerifyingKey, verified_payload
from gatepass.resource.jwks import import_jwk
from tests.resource.token_support import b64, json_bytes, sign_raw

SEED = 20261127
ALGORITHMS = ("RS256", "ES256", "EdDSA")
TYP = "at+jwt"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
AGREE, POLICY = "agree", "policy"


class PinnedRegistry(jws.JWSRegistry):
    """joserfc with exactly one algorithm, as gatepass pins keys (crypto/jwt.py does the
    same for the issuer): the reference gets the same key and the same algorithm."""

    def __init__(self, alg: str) -> None:
        super().__init__(algorithms=[alg], strict_check_header=False)
        self._alg = alg

    def get_alg(self, name: str) -> JWSAlgModel:
        if name != self._alg:
            raise UnsupportedAlgorithmError(name)
        return self.algorithms[name]


@dataclass(frozen=True)
class Case:
    kind: str  # what was done to the token, for the failure report and the counts
    token: str
    expect: str  # AGREE or POLICY
    bytes_only: bool = False  # damage at byte level only: PyJWT is a fair reference too


@dataclass
class Keys:
    signing: dict[str, SigningKey]  # alg -> the published key
    strangers: dict[str, SigningKey]  # alg -> a key that is not published
    ours: dict[str, VerifyingKey]  # kid -> fast_jws key
    joserfc: dict[str, tuple[Key, str]]  # kid -> (joserfc key, alg)
    pyjwt: dict[str, tuple[Any, str]]  # kid -> (cryptography key, alg)


@pytest.fixture(scope="module")
def keys() -> Keys:
    signing = {alg: generate_signing_key(alg) for alg in ALGORITHMS}
    strangers = {alg: generate_signing_key(alg) for alg in ALGORITHMS}
    published = [k.public_jwk() for k in signing.values()]
    return Keys(
        signing=signing,
        strangers=strangers,
        ours={jwk["kid"]: import_jwk(jwk) for jwk in published},
        joserfc={jwk["kid"]: (JWKRegistry.import_key(jwk), jwk["alg"]) for jwk in published},
        pyjwt={k.kid: (k.verification_key().jwk.public_key, k.alg) for k in signing.values()},
    )


# --- the three verdicts ----------------------------------------------------------------

READER = Reader(TYP)


def ours(token: str, keys: Keys) -> dict[str, Any] | None:
    """fast_jws's verdict; any exception but TokenRejected fails the test."""
    try:
        signed = READER.read(token)
        key = keys.ours.get(signed.kid)
        return None if key is None else verified_payload(signed, key)
    except TokenRejected:
        return None


def _typ_ok(header: Any) -> bool:
    typ = header.get("typ") if isinstance(header, dict) else None
    return isinstance(typ, str) and typ.lower().removeprefix("application/") == TYP


def joserfc_verdict(token: str, keys: Keys) -> dict[str, Any] | None:
    try:
        header = jws.extract_compact(token.encode()).headers()
        found = keys.joserfc.get(header.get("kid"))
        if found is None:
            return None
        key, alg = found
        signed = jws.deserialize_compact(token, key, registry=PinnedRegistry(alg))
        claims = json.loads(signed.payload)
    except Exception:  # the library's refusal, whatever its form
        return None
    return claims if _typ_ok(signed.headers()) and isinstance(claims, dict) else None


def pyjwt_verdict(token: str, keys: Keys) -> dict[str, Any] | None:
    try:
        found = keys.pyjwt.get(pyjwt.get_unverified_header(token).get("kid"))
        if found is None:
            return None
        key, alg = found
        decoded = pyjwt.api_jws.PyJWS().decode_complete(token, key, algorithms=[alg])
        claims = json.loads(decoded["payload"])
    except Exception:  # the library's refusal, whatever its form
        return None
    return claims if _typ_ok(decoded["header"]) and isinstance(claims, dict) else None


# --- the corpus ------------------------------------------------------------------------


def random_claims(rng: random.Random) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "https://id.example.com",
        "sub": f"user-{rng.randrange(10**9)}",
        "aud": rng.choice(["https://api.example", ["https://a.example", "https://b.example"]]),
        "exp": 1_800_000_000 + rng.randrange(3600),
        "iat": 1_800_000_000,
        "jti": "".join(rng.choice(ALPHABET) for _ in range(22)),
        "client_id": f"client-{rng.randrange(1000)}",
    }
    extras: list[tuple[str, Any]] = [
        ("scope", " ".join(rng.sample(["openid", "orders:read", "orders:write", "profile"], 2))),
        ("gid", "g" * rng.randrange(1, 40)),
        ("auth_time", 1_799_999_000.5),
        ("name", "Zoë ✓ \u00e9\u4e2d"),
        ("nested", {"a": [1, 2.5, None, True, {"b": "c"}]}),
        ("big", 10**30),
        ("escaped", 'line\nbreak "quoted" \\ \u2028'),
    ]
    claims.update(rng.sample(extras, rng.randrange(len(extras) + 1)))
    return claims


def header_of(key: SigningKey, rng: random.Random) -> dict[str, Any]:
    header = {
        "alg": key.alg,
        "kid": key.kid,
        "typ": rng.choice([TYP, "application/at+jwt", "AT+JWT"]),
    }
    if rng.random() < 0.3:
        header["cty"] = "json"  # an unknown, non-critical member: ignored by everyone
    items = list(header.items())
    rng.shuffle(items)
    return dict(items)


def decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def flip_bit(data: bytes, rng: random.Random) -> bytes:
    index = rng.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]


def substitute_char(segment: str, rng: random.Random) -> str:
    index = rng.randrange(len(segment))
    replacement = rng.choice([c for c in ALPHABET if c != segment[index]])
    return segment[:index] + replacement + segment[index + 1 :]


def valid_tokens(key: SigningKey, rng: random.Random, count: int) -> list[str]:
    return [sign_raw(header_of(key, rng), random_claims(rng), key) for _ in range(count)]


def tampered(valid: list[str], keys: Keys, alg: str, rng: random.Random) -> Iterator[Case]:
    key = keys.signing[alg]
    other_kids = [k.kid for k in keys.signing.values() if k.alg != alg]
    for i in range(900):
        head, body, signature = rng.choice(valid).split(".")
        match i % 9:
            case 0:
                yield Case(
                    "payload byte flipped",
                    f"{head}.{b64(flip_bit(decoded(body), rng))}.{signature}",
                    AGREE,
                    True,
                )
            case 1:
                yield Case(
                    "payload character changed",
                    f"{head}.{substitute_char(body, rng)}.{signature}",
                    AGREE,
                )
            case 2:
                yield Case(
                    "signature byte flipped",
                    f"{head}.{body}.{b64(flip_bit(decoded(signature), rng))}",
                    AGREE,
                    True,
                )
            case 3:
                yield Case(
                    "signature character changed",
                    f"{head}.{body}.{substitute_char(signature, rng)}",
                    AGREE,
                )
            case 4:
                header = json.loads(decoded(head))
                header[rng.choice(["typ", "kid", "alg", "extra"])] = rng.choice(
                    ["JWT", rng.choice(other_kids), rng.choice(["RS256", "ES256", "EdDSA"]), 1]
                )
                yield Case(
                    "header changed, signature kept",
                    f"{b64(json_bytes(header))}.{body}.{signature}",
                    AGREE,
                    True,
                )
            case 5:
                token = f"{head}.{body}.{signature}"
                yield Case("truncated", token[: rng.randrange(1, len(token))], AGREE)
            case 6:
                _, _, other_signature = rng.choice(valid).split(".")
                yield Case(
                    "signature of another token", f"{head}.{body}.{other_signature}", AGREE, True
                )
            case 7:
                stranger = keys.strangers[alg]
                forged = sign_raw(decoded(head), decoded(body), stranger)
                yield Case("signed by a stranger under the kid", forged, AGREE, True)
            case _:
                yield Case("segments reordered", f"{body}.{head}.{signature}", AGREE, True)
    del key


def hostile(keys: Keys, alg: str, rng: random.Random) -> Iterator[Case]:
    key = keys.signing[alg]
    claims = random_claims(rng)
    plain = {"alg": alg, "kid": key.kid, "typ": TYP}
    good = sign_raw(plain, claims, key)
    head, body, signature = good.split(".")
    public_pem = key.verification_key().jwk.public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def hmac_token(secret: bytes, alg_name: str = "HS256") -> str:
        header = b64(json_bytes({**plain, "alg": alg_name}))
        signing_input = f"{header}.{body}"
        mac = hmac.HMAC(secret, hashes.SHA256())
        mac.update(signing_input.encode())
        return f"{signing_input}.{b64(mac.finalize())}"

    def signed(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes) -> str:
        return sign_raw(header, payload, key)

    none_head = b64(json_bytes({**plain, "alg": "none"}))
    latin1_head = b64(b'{"alg":"\xff"}')
    agree: dict[str, str] = {
        "control: the untouched token": good,
        "alg none, no signature": f"{none_head}.{body}.",
        "alg none, the real signature": f"{none_head}.{body}.{signature}",
        "alg None": f"{b64(json_bytes({**plain, 'alg': 'None'}))}.{body}.{signature}",
        "HS256 keyed with the public PEM": hmac_token(public_pem),
        "HS256 keyed with the public JWK": hmac_token(json.dumps(key.public_jwk()).encode()),
        "HS256 keyed with the kid": hmac_token(key.kid.encode()),
        "alg of another family": signed({**plain, "alg": "PS256"}, claims),
        "typ JWT": signed({**plain, "typ": "JWT"}, claims),
        "typ missing": signed({"alg": alg, "kid": key.kid}, claims),
        "typ with parameters": signed({**plain, "typ": "at+jwt; charset=utf-8"}, claims),
        "kid missing": signed({"alg": alg, "typ": TYP}, claims),
        "kid unknown": signed({**plain, "kid": "unknown"}, claims),
        "kid a number": signed({**plain, "kid": 7}, claims),
        "kid over 256 characters": signed({**plain, "kid": "k" * 257}, claims),
        "header an array": f"{b64(b'[1]')}.{body}.{signature}",
        "header not JSON": f"{b64(b'{alg:1}')}.{body}.{signature}",
        "header not UTF-8": f"{latin1_head}.{body}.{signature}",
        "payload an array": signed(plain, b"[1,2,3]"),
        "payload a string": signed(plain, b'"claims"'),
        "payload not JSON": signed(plain, b"{sub:1}"),
        "payload not UTF-8": signed(plain, b'{"sub":"\xff"}'),
        "payload empty": signed(plain, b""),
        "payload nested deep": signed(plain, b'{"a":' + b"[" * 1500 + b"]" * 1500 + b"}"),
        "payload with white space": signed(plain, b' \n{"sub": "x"}\t '),
        "payload with extra data": signed(plain, b'{"sub":"x"} {}'),
        "padding on the signature": f"{good}=",
        "padding on every segment": f"{head}==.{body}==.{signature}==",
        "a plus sign": f"{head}.{body}.+{signature[1:]}",
        "a slash": f"{head}.{body}.{signature[:-1]}/",
        "a space inside": f"{head}.{body[:5]} {body[5:]}.{signature}",
        "a line break": f"{head}.{body}.{signature[:9]}\n{signature[9:]}",
        "non-ASCII": f"{head}.{body}.{signature}é",
        "an extra dot": f"{head}.{body}.{signature}.",
        "two dots": f"{head}..{body}.{signature}",
        "empty header": f".{body}.{signature}",
        "empty signature": f"{head}.{body}.",
        "length 4n+1 signature": f"{head}.{body}.{signature}{'A' * ((1 - len(signature)) % 4)}",
        "non-canonical last character": f"{head}.{body}.{signature[:-1]}{non_canonical(signature)}",
        "header over 512 characters": signed({**plain, "x": "y" * 400}, claims),
        "JWS JSON serialization": json.dumps(
            {"payload": body, "protected": head, "signature": signature}
        ),
    }
    for name, token in agree.items():
        yield Case(name, token, AGREE)

    dup_header = json_bytes(plain)[:-1] + f',"kid":"{key.kid}"}}'.encode()
    policy: dict[str, str] = {
        "jku header": signed({**plain, "jku": "https://evil.example/jwks.json"}, claims),
        "x5u header": signed({**plain, "x5u": "https://evil.example/cert.pem"}, claims),
        "jwk header": signed({**plain, "jwk": key.public_jwk()}, claims),
        "x5c header": signed({**plain, "x5c": ["MIIBIjAN"]}, claims),
        "crit naming a registered member": signed({**plain, "crit": ["kid"]}, claims),
        "crit naming an unknown member": signed({**plain, "crit": ["exp"], "exp": 1}, claims),
        "b64 false": signed({**plain, "b64": False}, claims),
        "duplicate header member (same value)": signed(dup_header, claims),
        "duplicate header member (other value)": signed(
            json_bytes(plain)[:-1] + b',"typ":"JWT"}', claims
        ),
        "duplicate claim": signed(plain, json_bytes(claims)[:-1] + b',"sub":"admin"}'),
        "UTF-16 payload": signed(plain, json.dumps(claims).encode("utf-16")),
        "UTF-8 BOM payload": signed(plain, b"\xef\xbb\xbf" + json_bytes(claims)),
        "NaN claim": signed(plain, json_bytes(claims)[:-1] + b',"exp2":NaN}'),
        "Infinity claim": signed(plain, json_bytes(claims)[:-1] + b',"exp2":-Infinity}'),
        "over 8 KB": signed(plain, {**claims, "pad": "x" * MAX_TOKEN_CHARS}),
    }
    for name, token in policy.items():
        yield Case(name, token, POLICY)


def non_canonical(segment: str) -> str:
    """The last character with a spare bit set: other text, the same bytes to a lax decoder."""
    spare = 1 if len(segment) % 4 == 3 else 2
    return ALPHABET[ALPHABET.index(segment[-1]) | spare]


def corpus(keys: Keys) -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []
    for alg in ALGORITHMS:
        valid = valid_tokens(keys.signing[alg], rng, 150)
        cases += [Case("valid", token, AGREE, True) for token in valid]
        cases += tampered(valid, keys, alg, rng)
        cases += hostile(keys, alg, rng)
    return cases


@pytest.fixture(scope="module")
def cases(keys: Keys) -> list[Case]:
    return corpus(keys)


# --- the tests -------------------------------------------------------------------------

Verdict = Callable[[str, Keys], dict[str, Any] | None]


def disagreements(cases: list[Case], keys: Keys, reference: Verdict) -> list[str]:
    found = []
    for case in cases:
        mine, theirs = ours(case.token, keys), reference(case.token, keys)
        if mine != theirs:
            found.append(f"{case.kind}: ours {_says(mine)}, the reference {_says(theirs)}")
    return found


def _says(verdict: dict[str, Any] | None) -> str:
    return "refuses" if verdict is None else f"accepts {json.dumps(verdict)[:60]}"


def test_the_corpus_is_large_and_covers_every_kind(cases: list[Case], keys: Keys) -> None:
    kinds = Counter(case.kind for case in cases)
    assert len(cases) >= 3000
    assert kinds["valid"] == 450
    assert len(kinds) >= 60
    accepted = sum(ours(case.token, keys) is not None for case in cases)
    # Valid tokens, the controls, and the tampered ones a change could not break (a
    # "header changed" to the value it already had, say): a handful.
    assert 453 <= accepted <= 480


def test_fast_jws_accepts_exactly_what_joserfc_accepts(cases: list[Case], keys: Keys) -> None:
    agreeing = [case for case in cases if case.expect == AGREE]
    assert disagreements(agreeing, keys, joserfc_verdict) == []


def test_fast_jws_accepts_exactly_what_pyjwt_accepts_on_byte_level_damage(
    cases: list[Case], keys: Keys
) -> None:
    byte_level = [case for case in cases if case.bytes_only]
    assert len(byte_level) >= 1800
    assert disagreements(byte_level, keys, pyjwt_verdict) == []


def test_every_valid_token_is_accepted_with_its_claims(cases: list[Case], keys: Keys) -> None:
    for case in cases:
        if case.kind == "valid":
            claims = ours(case.token, keys)
            assert claims is not None
            assert claims == json.loads(decoded(case.token.split(".")[1]))


# What joserfc 1.8 accepts among the tokens gatepass's policy refuses: the reasons the
# policy exists. (Were joserfc to refuse one, this list shrinks; ours must not.)
JOSERFC_ACCEPTS = {
    "jku header",
    "x5u header",
    "jwk header",
    "x5c header",
    "crit naming a registered member",
    "duplicate header member (same value)",
    "duplicate claim",
    "UTF-16 payload",
    "UTF-8 BOM payload",
    "NaN claim",
    "Infinity claim",
    "over 8 KB",
}


def test_fast_jws_refuses_every_token_its_policy_refuses(cases: list[Case], keys: Keys) -> None:
    policy = [case for case in cases if case.expect == POLICY]
    assert len(policy) == 15 * len(ALGORITHMS)
    assert [case.kind for case in policy if ours(case.token, keys) is not None] == []
    accepted_by_joserfc = {case.kind for case in policy if joserfc_verdict(case.token, keys)}
    assert accepted_by_joserfc == JOSERFC_ACCEPTS
