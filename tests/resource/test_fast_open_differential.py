"""`Reader.open`, the verifier's one-frame path, against the two-step path it fuses.

    corpus of test_fast_jws_differential.py (valid, tampered, hostile; ~3,300 tokens)
        ─► open(token, key by kid)            what TokenVerifier.verify runs per token
        ─► read(token) ─► verified_payload    what test_fast_jws_differential.py holds to
                                              joserfc and PyJWT

The two must give the same verdict and the same claims on every token: `open` then
accepts exactly what joserfc accepts, by the other test. Its inline JSON shortcut is held
to the duplicate-checking decoder on the objects of test_fast_jws_pieces.py, each signed
as a payload.
"""

import random
from typing import Any

import pytest
from joserfc.jwk import JWKRegistry

from gatepass.crypto.keys import SigningKey, generate_signing_key
from gatepass.resource.errors import TokenRejected
from gatepass.resource.fast_jws import Reader, VerifyingKey
from gatepass.resource.jwks import import_jwk
from tests.resource.test_fast_jws_differential import (
    AGREE,
    ALGORITHMS,
    POLICY,
    READER,
    TYP,
    Case,
    Keys,
    corpus,
    ours,
)
from tests.resource.test_fast_jws_pieces import (
    OBJECTS,
    random_nested_object,
    random_object,
    reference,
)
from tests.resource.token_support import sign_raw

SEED = 20261129


@pytest.fixture(scope="module")
def keys() -> Keys:
    """As test_fast_jws_differential.py's fixture: published keys in each library's form."""
    signing = {alg: generate_signing_key(alg) for alg in ALGORITHMS}
    published = [k.public_jwk() for k in signing.values()]
    return Keys(
        signing=signing,
        strangers={alg: generate_signing_key(alg) for alg in ALGORITHMS},
        ours={jwk["kid"]: import_jwk(jwk) for jwk in published},
        joserfc={jwk["kid"]: (JWKRegistry.import_key(jwk), jwk["alg"]) for jwk in published},
        pyjwt={k.kid: (k.verification_key().jwk.public_key, k.alg) for k in signing.values()},
    )


@pytest.fixture(scope="module")
def cases(keys: Keys) -> list[Case]:
    return corpus(keys)


def opened(reader: Reader, token: str, published: dict[str, VerifyingKey]) -> dict[str, Any] | None:
    """`open`'s verdict: the claims, or None for a refusal or a kid it has no key for; any
    exception but TokenRejected fails the test."""

    try:
        return reader.open(token, published.get)
    except TokenRejected:
        return None


def test_open_gives_the_two_step_verdict_on_every_token_of_the_corpus(
    cases: list[Case], keys: Keys
) -> None:
    reader = Reader(TYP)  # its own header cache, filled as the corpus goes
    differ = []
    for case in cases:
        mine, two_step = opened(reader, case.token, keys.ours), ours(case.token, keys)
        if mine != two_step:
            differ.append(f"{case.kind}: open {mine is not None}, read+verified {two_step}")
    assert differ == []
    accepted = [case for case in cases if opened(reader, case.token, keys.ours) is not None]
    assert len(accepted) >= 453  # every valid token and control, at least
    assert {case.expect for case in cases} == {AGREE, POLICY}


def test_open_on_a_header_the_reader_has_already_seen_is_as_strict(
    cases: list[Case], keys: Keys
) -> None:
    # READER (shared with the two-step verdicts) has seen every header of the corpus by
    # now, so this run takes the cached-header branch wherever one exists.
    for case in cases:
        ours(case.token, keys)
    for case in cases:
        assert opened(READER, case.token, keys.ours) == ours(case.token, keys), case.kind


def test_open_returns_none_only_when_it_has_no_key_for_the_kid(keys: Keys) -> None:
    signing = keys.signing["ES256"]
    token = sign_raw({"alg": "ES256", "kid": signing.kid, "typ": TYP}, {"sub": "x"}, signing)
    reader = Reader(TYP)
    assert opened(reader, token, {}) is None  # no key: the caller fetches
    for hostile in (token + ".", "x" * 9000, "é" + token):  # refused before any key is asked
        with pytest.raises(TokenRejected):
            reader.open(hostile, lambda kid: pytest.fail("asked for a key"))
    assert reader.open(token, keys.ours.__getitem__) == {"sub": "x"}


def test_open_refuses_a_key_of_another_algorithm_under_the_tokens_kid(keys: Keys) -> None:
    signing = keys.signing["ES256"]
    token = sign_raw({"alg": "ES256", "kid": signing.kid, "typ": TYP}, {"sub": "x"}, signing)
    other = keys.ours[keys.signing["RS256"].kid]
    with pytest.raises(TokenRejected) as refused:
        Reader(TYP).open(token, lambda kid: other)
    assert "is for RS256" in refused.value.reason


@pytest.fixture(scope="module")
def eddsa() -> tuple[SigningKey, VerifyingKey]:
    key = generate_signing_key("EdDSA")
    return key, import_jwk(key.public_jwk())


def _signed_payload(data: bytes, key: SigningKey) -> str:
    return sign_raw({"alg": "EdDSA", "kid": key.kid, "typ": TYP}, data, key)


@pytest.mark.parametrize("data", OBJECTS.values(), ids=OBJECTS.keys())
def test_opened_payloads_are_read_as_the_hooked_decoder_reads_them(
    data: bytes, eddsa: tuple[SigningKey, VerifyingKey]
) -> None:
    key, public = eddsa
    assert opened(Reader(TYP), _signed_payload(data, key), {key.kid: public}) == reference(data)


def test_random_signed_payloads_are_read_as_the_hooked_decoder_reads_them(
    eddsa: tuple[SigningKey, VerifyingKey],
) -> None:
    key, public = eddsa
    reader, rng = Reader(TYP), random.Random(SEED)
    verdicts = {"accepted": 0, "refused": 0}
    for n in range(2000):
        data = random_object(rng) if n % 2 else random_nested_object(rng)
        mine = opened(reader, _signed_payload(data, key), {key.kid: public})
        assert mine == reference(data), data
        verdicts["accepted" if mine is not None else "refused"] += 1
    assert min(verdicts.values()) > 400
